/**
 * Typed errors with stable, kebab-case codes. Every message names the bad value and, where there
 * is a closed set, the allowed ones. Validation happens before any compute, so a thrown
 * `XlensError` means nothing was changed.
 */
export type ErrorCode =
  | 'invalid-input'
  | 'invalid-file'
  | 'invalid-shape'
  | 'non-finite-input'
  | 'non-finite-output'
  | 'invalid-target'
  | 'target-out-of-range'
  | 'unknown-layer'
  | 'not-spatial-layer'
  | 'missing-capability'
  | 'unsupported'
  | 'unsupported-op'
  | 'unsupported-rule'
  | 'invalid-option'
  | 'unknown-option'
  | 'unknown-method'
  | 'duplicate-method'
  | 'unknown-metric'
  | 'duplicate-metric'
  | 'invalid-model'
  | 'disposed'
  | 'aborted';

/** Base class of every error xlens throws on purpose. */
export class XlensError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'XlensError';
    this.code = code;
  }
}

/**
 * The input is malformed: a tensor of the wrong rank/shape or length, values that are not finite,
 * (`invalid-file`) a file that cannot be read or does not hold what its format promises, or
 * (`non-finite-output`) finite values so extreme that the model's outputs or the map overflow.
 */
export class InputError extends XlensError {
  constructor(
    code: 'invalid-input' | 'invalid-file' | 'invalid-shape' | 'non-finite-input' | 'non-finite-output',
    message: string,
  ) {
    super(code, message);
    this.name = 'InputError';
  }
}

/** A target is malformed or outside the model's outputs. */
export class TargetError extends XlensError {
  constructor(code: 'invalid-target' | 'target-out-of-range', message: string) {
    super(code, message);
    this.name = 'TargetError';
  }
}

/** A layer name that the model does not have, or a layer of the wrong kind for the method. */
export class LayerError extends XlensError {
  constructor(code: 'unknown-layer' | 'not-spatial-layer', message: string) {
    super(code, message);
    this.name = 'LayerError';
  }
}

/** The model lacks a capability the method declares it requires. */
export class CapabilityError extends XlensError {
  constructor(message: string) {
    super('missing-capability', message);
    this.name = 'CapabilityError';
  }
}

/** The backend cannot do what was asked (an op, a rule, a model format). */
export class UnsupportedError extends XlensError {
  constructor(
    code: 'unsupported' | 'unsupported-op' | 'unsupported-rule' | 'invalid-model',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'UnsupportedError';
  }
}

/** A method option is unknown or has a value outside its allowed set or range. */
export class OptionError extends XlensError {
  constructor(code: 'invalid-option' | 'unknown-option', message: string) {
    super(code, message);
    this.name = 'OptionError';
  }
}

/** A method or metric id that the registry does not know, or registered twice. */
export class RegistryError extends XlensError {
  constructor(
    code: 'unknown-method' | 'duplicate-method' | 'unknown-metric' | 'duplicate-metric',
    message: string,
  ) {
    super(code, message);
    this.name = 'RegistryError';
  }
}
