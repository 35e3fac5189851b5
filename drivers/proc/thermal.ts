import type { FileRoot } from '../fileroot/file-root.js';

export interface ThermalZone {
  zone: number;
  /** The zone's `type`, e.g. `cpu-thermal` or `x86_pkg_temp`. */
  type: string;
  /** Degrees Celsius, or null when the sensor gave no believable reading. */
  tempC: number | null;
}

/** Parses a zone's `temp` file (millidegrees Celsius); readings outside -40..150 °C are sensor faults. */
export function parseZoneTemp(text: string): number | null {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) return null;
  const c = Number(t) / 1000;
  return c >= -40 && c <= 150 ? c : null;
}

/** Reads every `sys/class/thermal/thermal_zoneN`; none at all (a VM, a board without sensors) gives []. */
export async function readThermalZones(root: FileRoot): Promise<ThermalZone[]> {
  let names: string[];
  try {
    names = await root.list('sys/class/thermal');
  } catch {
    return [];
  }
  const zones = names
    .map((name) => /^thermal_zone(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  return Promise.all(
    zones.map(async (zone) => {
      const dir = `sys/class/thermal/thermal_zone${zone}`;
      // Some sensors fail reads (EIO/ENODATA) while idle: that zone reads as null, the others still count.
      const [temp, type] = await Promise.all([
        root.readText(`${dir}/temp`).catch(() => ''),
        root.readText(`${dir}/type`).catch(() => ''),
      ]);
      return { zone, type: type.trim() || 'unknown', tempC: parseZoneTemp(temp) };
    }),
  );
}

/** The board's temperature: the hottest believable zone, since that is the one that throttles. */
export function boardTemperature(zones: ThermalZone[]): number | null {
  let best: number | null = null;
  for (const z of zones) if (z.tempC !== null && (best === null || z.tempC > best)) best = z.tempC;
  return best;
}
