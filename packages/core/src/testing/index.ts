/**
 * @xlens/core/testing — oracle models with closed-form answers and the conformance cases every
 * backend runs. Import from `@xlens/core/testing`.
 */
export * from './spec.js';
