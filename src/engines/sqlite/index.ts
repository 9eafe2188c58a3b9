export { SqliteEngine, type SqliteEngineOptions } from './sqlite-engine.ts';
