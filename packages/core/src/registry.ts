import { RegistryError } from './errors.js';
import type { AnyExplainer, Family } from './explainer.js';

/**
 * The registered method whose id is `K`: its own type when ids are literal types (the built-in
 * families), else the registry's method type.
 */
export type MethodById<M extends AnyExplainer, K extends string> = [Extract<M, { readonly id: K }>] extends [
  never,
]
  ? M
  : Extract<M, { readonly id: K }>;

/**
 * A set of methods by id. An instance, never a global: packages export their methods and the
 * application decides what to register (`new Registry([...gradientMethods, ...camMethods])`).
 */
export class Registry<M extends AnyExplainer = AnyExplainer> {
  readonly #methods = new Map<string, M>();

  /** Typed by its methods: `get('integrated-gradients')` returns that method's own type. */
  constructor(methods: Iterable<M> = []) {
    for (const m of methods) this.register(m);
  }

  /** Add a method; an id registered twice is an error. Returns this for chaining. */
  register(method: M): this {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(method.id)) {
      throw new RegistryError('duplicate-method', `method id ${JSON.stringify(method.id)} is not kebab-case`);
    }
    if (this.#methods.has(method.id))
      throw new RegistryError('duplicate-method', `method ${method.id} is already registered`);
    this.#methods.set(method.id, method);
    return this;
  }

  /** The method with this id (typed by id for registered methods); throws naming the known ids otherwise. */
  get<K extends M['id']>(id: K): MethodById<M, K>;
  get(id: string): M;
  get(id: string): M {
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
  list(family?: Family): M[] {
    return [...this.#methods.values()].filter((m) => !family || m.family === family);
  }
}
