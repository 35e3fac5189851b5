import { framebufferToPng } from '../../drivers/ssd1306/framebuffer.js';
import type { Panel } from '../panel/panel.js';
import { rewardsJson } from '../rewards/output.js';
import type { RewardsService } from '../rewards/service.js';
import { skywireJson } from '../rewards/skywire-output.js';
import type { HypervisorPasswordControl } from '../skywire/hypervisor-account.js';
import type { BoxView } from '../supervisor/view.js';
import type { ControlSources, DiskJson, PanelControl } from './sources.js';

/**
 * The disks as the manager knows them: the reports each board's agent sent in its latest heartbeat. A board
 * that is not up has no fresh report, so its disks are left out rather than shown with old figures.
 */
export function disksFromView(view: BoxView): DiskJson[] {
  return view.boards.flatMap((b) =>
    b.status === 'up' && b.telemetry ? b.telemetry.disks.map((d) => ({ board: b.board, ...d })) : [],
  );
}

/** The front panel as the console drives it. */
export function panelControl(panel: Panel): PanelControl {
  return {
    pin: (name) => {
      const result = panel.pin(name);
      if (!result.ok) throw new Error(result.message);
    },
    pages: () => panel.pages(),
    dim: () => void panel.dim(),
    off: () => void panel.off(),
    on: () => void panel.on(),
    snapshot: () => {
      const frame = panel.snapshot();
      if (!frame) throw new Error('the panel has not drawn a frame yet');
      return framebufferToPng(frame, { scale: 1 });
    },
  };
}

/** The data sources the control socket serves, from the parts that run on the manager. */
export function firmwareSources(parts: {
  view: () => BoxView;
  panel?: Panel;
  rewards?: () => RewardsService | undefined;
  /** The hypervisor's web UI, as `skywire` names it for the owner. */
  hypervisorUi?: string;
  /** Its password, as `skywire password` shows and changes it. */
  hypervisorPassword?: HypervisorPasswordControl;
}): ControlSources {
  const service = (): RewardsService => {
    const s = parts.rewards!();
    if (!s) throw new Error('the rewards service is not running');
    return s;
  };
  return {
    disks: () => disksFromView(parts.view()),
    ...(parts.panel ? { panel: panelControl(parts.panel) } : {}),
    ...(parts.hypervisorPassword ? { hypervisorPassword: parts.hypervisorPassword } : {}),
    ...(parts.rewards
      ? {
          rewards: () => rewardsJson(service().view()),
          setRewardAddress: async (address: string) => rewardsJson(await service().setRewardAddress(address)),
          skywire: () => skywireJson(service().visors(), parts.hypervisorUi ?? ''),
        }
      : {}),
  };
}
