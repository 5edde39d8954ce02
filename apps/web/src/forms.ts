import { type AnyExplainer, OptionError, type OptionSpec, parseOptionValue } from '@xlens/core';

/** A form for one method's options, generated from its option specs (as the CLI parses them). */
export interface MethodForm {
  readonly element: HTMLFieldSetElement;
  /** The options whose fields differ from the defaults, parsed; throws `OptionError` naming the field. */
  read(): Record<string, unknown>;
}

const shown = (v: unknown): string =>
  v === undefined ? '' : typeof v === 'string' ? v : Array.isArray(v) ? v.join(', ') : JSON.stringify(v);

function hint(spec: OptionSpec): string {
  const parts: string[] = [];
  if (
    (spec.type === 'number' || spec.type === 'integer') &&
    (spec.min !== undefined || spec.max !== undefined)
  )
    parts.push(`${spec.min ?? '−∞'} … ${spec.max ?? '∞'}`);
  if (spec.type === 'number' && spec.unit) parts.push(spec.unit);
  if (spec.type === 'numbers') parts.push('numbers, comma-separated');
  if (spec.type === 'json') parts.push('JSON or a name');
  return parts.join(', ');
}

let formCount = 0;

/**
 * Build the fieldset of a method: one labelled field per option, typed by its spec (number inputs
 * with bounds, checkboxes, selects for enums and allowed strings, text for lists and JSON), filled
 * with the method's defaults. `layers` suggests layer names for options whose name mentions a layer.
 */
export function methodForm(explainer: AnyExplainer, layers: readonly string[]): MethodForm {
  const specs = explainer.options as Record<string, OptionSpec>;
  const defaults = explainer.defaults as Record<string, unknown>;
  const element = document.createElement('fieldset');
  element.className = 'method-form';
  element.dataset.method = explainer.id;
  const legend = document.createElement('legend');
  legend.textContent = explainer.title;
  legend.title = `${explainer.description}\n${explainer.citation}`;
  element.append(legend);
  const readers: (() => [string, unknown] | undefined)[] = [];
  const id = ++formCount;
  if (Object.keys(specs).length === 0) {
    const none = document.createElement('p');
    none.className = 'hint';
    none.textContent = 'no options';
    element.append(none);
  }
  for (const [key, spec] of Object.entries(specs)) {
    const label = document.createElement('label');
    label.title = spec.doc;
    const name = document.createElement('span');
    name.textContent = key;
    label.append(name);
    const initial = shown(defaults[key]);
    let field: HTMLInputElement | HTMLSelectElement;
    const choices = spec.type === 'enum' ? spec.values : spec.type === 'string' ? spec.allowed : undefined;
    if (spec.type === 'boolean') {
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = defaults[key] === true;
      field = box;
      readers.push(() => (box.checked === (defaults[key] === true) ? undefined : [key, box.checked]));
    } else if (choices) {
      const select = document.createElement('select');
      for (const v of defaults[key] === undefined ? ['', ...choices] : choices)
        select.add(new Option(v || 'auto', v));
      select.value = initial;
      field = select;
      readers.push(() => (select.value === initial ? undefined : [key, select.value]));
    } else {
      const input = document.createElement('input');
      if (spec.type === 'number' || spec.type === 'integer') {
        input.type = 'number';
        input.step = spec.type === 'integer' ? '1' : 'any';
        if (spec.min !== undefined) input.min = String(spec.min);
        if (spec.max !== undefined) input.max = String(spec.max);
      } else input.type = 'text';
      input.value = initial;
      input.placeholder = initial === '' ? 'auto' : '';
      if (/layer/i.test(key) && layers.length > 0) {
        const list = document.createElement('datalist');
        list.id = `layers-${id}-${key}`;
        for (const l of layers) list.append(new Option(l));
        element.append(list);
        input.setAttribute('list', list.id);
      }
      field = input;
      readers.push(() => {
        const text = input.value.trim();
        if (text === initial.trim()) return undefined;
        if (text === '') return undefined;
        if (spec.type === 'numbers')
          return [
            key,
            text
              .split(/[\s,;|]+/)
              .filter(Boolean)
              .map((t) => parseOptionValue(explainer.id, key, t, { type: 'number', doc: '' })),
          ];
        return [key, parseOptionValue(explainer.id, key, text, spec)];
      });
    }
    field.name = key;
    field.dataset.option = key;
    label.append(field);
    const h = hint(spec);
    if (h) {
      const small = document.createElement('small');
      small.textContent = h;
      label.append(small);
    }
    element.append(label);
  }
  return {
    element,
    read() {
      const out: Record<string, unknown> = {};
      for (const r of readers) {
        const kv = r();
        if (kv) out[kv[0]] = kv[1];
      }
      return out;
    },
  };
}

export { OptionError };
