import type { Framebuffer } from '../../drivers/ssd1306/framebuffer.js';
import { frameToBlocks } from '../panel/terminal-view.js';
import type { BoardStatus } from '../supervisor/board-state.js';
import type { BoxView } from '../supervisor/view.js';

const STATUS_WORD: Record<BoardStatus, string> = {
  up: '\x1b[32mup\x1b[0m',
  booting: '\x1b[33mbooting\x1b[0m',
  off: '\x1b[90moff\x1b[0m',
  suspect: '\x1b[33msuspect\x1b[0m',
  failed: '\x1b[31mfailed\x1b[0m',
  restarting: '\x1b[35mrestarting\x1b[0m',
  quarantined: '\x1b[41;97mquarantined\x1b[0m',
};

/** One screenful for `skyminer sim`: the panel in block characters inside a bezel, board states beside it. */
export function renderScreen(frame: Framebuffer, view: BoxView, footer: string): string {
  const panel = frameToBlocks(frame);
  const width = panel[0]?.length ?? 64;
  const left = [
    '┌' + '─'.repeat(width) + '┐',
    ...panel.map((l) => '│' + l + '│'),
    '└' + '─'.repeat(width) + '┘',
  ];
  const right = ['  Boards', ''];
  for (const b of view.boards) {
    const role = b.role === 'manager' ? ' (manager)' : '';
    const up = b.status === 'up' && b.uptimeS !== undefined ? `  uptime ${formatSeconds(b.uptimeS)}` : '';
    const step = b.status === 'restarting' && b.step ? ` (${b.step})` : '';
    const restarts = b.restarts ? `  ${b.restarts} restart${b.restarts === 1 ? '' : 's'}` : '';
    right.push(`  ${String(b.board).padStart(2)}  ${STATUS_WORD[b.status]}${step}${role}${up}${restarts}`);
  }
  const rows = Math.max(left.length, right.length);
  const out: string[] = [];
  for (let i = 0; i < rows; i++) out.push((left[i] ?? ' '.repeat(width + 2)) + (right[i] ?? '') + '\x1b[K');
  out.push(footer + '\x1b[K');
  return out.join('\n');
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.floor(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
