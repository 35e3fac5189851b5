/**
 * The one error type the installer throws for bad input. Its message is a single line that names the package
 * (or index) at fault and what was wrong, so the command can print it as is.
 */
export class ApkError extends Error {
  constructor(
    readonly subject: string,
    readonly reason: string,
  ) {
    super(`${subject}: ${reason}`.replace(/\s*\n\s*/g, ' '));
    this.name = 'ApkError';
  }
}
