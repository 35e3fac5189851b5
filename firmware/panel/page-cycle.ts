import { alertKeys } from './alerts.js';
import type { PanelInput } from './panel-input.js';
import type { PageName } from './pages/index.js';

export interface CycleState {
  page: PageName;
  /** When the current page came up. */
  since: number;
  /** Alerts already announced; one not in here pre-empts the cycle. */
  seenAlerts: ReadonlySet<string>;
  /** The alerts page stays up until then after a new alert, pinned or not. */
  alertUntil: number;
}

export interface CycleOptions {
  periodMs: number;
  pinned: PageName | null;
}

export function initialCycle(now: number): CycleState {
  return { page: 'overview', since: now, seenAlerts: new Set(), alertUntil: 0 };
}

/**
 * The pages in turn: the overview, each board that is not switched off, the rewards, and the alerts while
 * there are any.
 */
export function cyclePages(input: PanelInput): PageName[] {
  const pages: PageName[] = ['overview'];
  for (const b of input.box.boards) if (b.status !== 'off') pages.push(`board:${b.board}`);
  pages.push('rewards');
  if (input.alerts.length > 0) pages.push('alerts');
  return pages;
}

/**
 * Which page to show at `now`. A new alert shows the alerts page at once, for one period, even over a pinned
 * page; otherwise a pinned page stays, and the cycle moves on once a page has had its period.
 */
export function nextPage(
  state: CycleState,
  input: PanelInput,
  now: number,
  options: CycleOptions,
): CycleState {
  const keys = alertKeys(input.alerts);
  const fresh = [...keys].some((k) => !state.seenAlerts.has(k));
  if (fresh) return { page: 'alerts', since: now, seenAlerts: keys, alertUntil: now + options.periodMs };
  const base = { ...state, seenAlerts: keys };
  if (now < state.alertUntil && keys.size > 0) return base;
  if (options.pinned) {
    return options.pinned === state.page
      ? base
      : { ...base, page: options.pinned, since: now, alertUntil: 0 };
  }
  const pages = cyclePages(input);
  const at = pages.indexOf(state.page);
  if (at >= 0 && now - state.since < options.periodMs && now >= state.alertUntil) return base;
  if (at < 0 && state.page.startsWith('board:')) {
    // The board went off while on screen: carry on from where it stood in the order.
    const board = Number(state.page.slice('board:'.length));
    const after = pages.findIndex((p) => p.startsWith('board:') && Number(p.slice(6)) > board);
    return {
      ...base,
      page: pages[after >= 0 ? after : pages.indexOf('rewards')]!,
      since: now,
      alertUntil: 0,
    };
  }
  return { ...base, page: pages[(at + 1) % pages.length]!, since: now, alertUntil: 0 };
}
