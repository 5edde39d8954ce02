import { RegistryError } from './errors.js';
import type { AnyExplainer, Family } from './explainer.js';

/**
 * A set of methods by id. An instance, never a global: packages export their methods and the
 * application decides what to register (`new Registry([...gradientMethods, ...camMethods])`).
 */
export class Registry {
  readonly #methods = new Map<string, AnyExplainer>();

  constructor(methods: Iterable<AnyExplainer> = []) {
    for (const m of methods) this.register(m);
  }

  /** Add a method; an id registered twice is an error. Returns this for chaining. */
  register(method: AnyExplainer): this {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(method.id)) {
      throw new RegistryError('duplicate-method', `method id ${JSON.stringify(method.id)} is not kebab-case`);
    }
    if (this.#methods.has(method.id))
      throw new RegistryError('duplicate-method', `method ${method.id} is already registered`);
    this.#methods.set(method.id, method);
    return this;
  }

  /** The method with this id; throws naming the known ids otherwise. */
  get(id: string): AnyExplainer {
    const m = this.#methods.get(id);
    if (!m)
      throw new RegistryError(
        'unknown-method',
        `unknown method ${JSON.stringify(id)}; known methods: ${[...this.#methods.keys()].join(', ')}`,
      );
    return m;
  }

  has(id: string): boolean {
    return this.#methods.has(id);
  }

  /** Every method, optionally of one family, in registration order. */
  list(family?: Family): AnyExplainer[] {
    return [...this.#methods.values()].filter((m) => !family || m.family === family);
  }
}
