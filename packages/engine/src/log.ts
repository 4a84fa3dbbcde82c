/** The logging the engine needs; pino's Logger satisfies it, tests pass a silent one. */
export interface EngineLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const silentLog: EngineLog = { debug() {}, info() {}, warn() {} };
