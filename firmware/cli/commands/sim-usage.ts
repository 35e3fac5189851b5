// Apart from sim.ts so that `skyminer help` prints it without loading the simulator.
export const SIM_USAGE = `usage: skyminer sim [--boards N] [--boot-ms MS] [--power-gap-ms MS] [--headless]
                    [--duration SECONDS] [--snapshot FILE.png] [--snapshot-scale N] [--page NAME]
                    [--i2c-trace FILE] [--events FILE.jsonl] [--scenario FILE.json]
                    [--hypervisor-url URL] [--skycoin-url URL] [--state-dir DIR]
                    [--control PATH] [--console-password PW] [--enrolment join|box-secret]`;
