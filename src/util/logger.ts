/**
 * What the core may say. The pipeline adapter decides how it reaches the log; every message may
 * carry text from the service or the user, so the adapter must neutralise logging commands.
 */
export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

export const silentLogger: Logger = { info() {}, warning() {}, debug() {} };
