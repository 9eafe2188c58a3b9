/** The engine's checks that every operation on a shared store (records, nonces, quarantine) goes through. */
export interface EngineGate {
  /** Throws ENGINE_UNAVAILABLE unless the engine is started and not closing. */
  checkOpen(operation: string): void;
  /** Runs an operation after `checkOpen`; errors other than EvqErrors become ENGINE_UNAVAILABLE. */
  run<T>(operation: string, run: () => Promise<T>): Promise<T>;
}
