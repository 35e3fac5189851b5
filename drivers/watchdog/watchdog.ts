/** A hardware watchdog as the agent and the supervisor use it. */
export interface Watchdog {
  /** Opens (and so arms) the watchdog with a timeout in seconds. */
  open(timeoutS: number): Promise<void>;
  /** Any write pets it. */
  pet(): Promise<void>;
  /** Closes it; with `disarm` the magic character 'V' is written first so the board is not reset. */
  close(disarm: boolean): Promise<void>;
  /** Seconds until reset, where the driver tells it; null otherwise. */
  timeLeft(): Promise<number | null>;
  /** The driver's boot status bits; WDIOF_CARDRESET (0x20) means the last reset was the watchdog's. */
  bootStatus(): Promise<number>;
}

export const WDIOF_CARDRESET = 0x20;
