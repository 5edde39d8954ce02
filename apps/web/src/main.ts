import type { AnyExplainer, Family } from '@xlens/core';
import type { RgbaImage } from '@xlens/viz';
import { WorkerClient, WorkerError } from './client.js';
import { type MethodForm, methodForm } from './forms.js';
import { createRegistry, defaultMethodIds } from './methods.js';
import { droppedFormat, type ZooEntry } from './models.js';
import {
  type ExplainResult,
  type FilePayload,
  type ImageSummary,
  isOnnxRuntime,
  type ModelSource,
  type ModelSummary,
  type RuntimeId,
  runtimeIds,
  runtimeTitles,
} from './protocol.js';
import { colorBarElement, downloadLink, drawImage, encodePng, npyBytes, renderResults } from './render.js';

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!;
/** A new element with properties set (`textContent`, `className`, `type`, …). */
const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Readonly<Record<string, unknown>> = {},
): HTMLElementTagNameMap[K] => Object.assign(document.createElement(tag), props);

const appBase = new URL('.', location.href).href;
const registry = createRegistry();
const client = new WorkerClient(
  new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }),
  (m) => showMessage(`The worker stopped: ${m}`),
);

const state: {
  zoo: ZooEntry[];
  model?: ModelSummary;
  image?: ImageSummary;
  source: ModelSource;
  ownFiles?: FilePayload[];
  forms: Map<string, MethodForm>;
  webgpu: boolean;
} = { zoo: [], source: { kind: 'zoo', name: 'shapes' }, forms: new Map(), webgpu: false };

// ---- messages ---------------------------------------------------------------------------------

/** Show a message in the page (errors by default); it stays until closed. */
function showMessage(text: string, kind: 'error' | 'info' = 'error', code?: string): void {
  const item = el('div', { className: `message ${kind}` });
  item.dataset.kind = kind;
  if (code) item.dataset.code = code;
  const close = el('button', { textContent: '×', title: 'dismiss', className: 'close' });
  close.onclick = () => item.remove();
  item.append(el('span', { textContent: text }), close);
  $('#messages').append(item);
}

const describeError = (e: unknown): [string, string | undefined] =>
  e instanceof WorkerError ? [e.message, e.code] : [e instanceof Error ? e.message : String(e), undefined];

// ---- model --------------------------------------------------------------------------------------

function setBusy(what: 'model' | 'image', busy: 'loading' | 'ready' | 'error'): void {
  document.body.dataset[`${what}State`] = busy;
}

async function loadModel(): Promise<void> {
  const runtime = $<HTMLSelectElement>('#runtime-select').value as RuntimeId;
  setBusy('model', 'loading');
  if (state.image) setBusy('image', 'loading'); // it is fed to the new model once loaded
  $('#model-info').textContent = `loading on ${runtimeTitles[runtime]}…`;
  const preprocess = readPreprocess();
  const files = state.source.kind === 'files' ? state.source.files : [];
  const request = client.send<'model'>({
    type: 'load-model',
    source:
      state.source.kind === 'zoo' ? state.source : { kind: 'files', files: files.map((f) => ({ ...f })) },
    runtime,
    ...(preprocess ? { preprocess } : {}),
  });
  try {
    const { model } = await request.done;
    state.model = model;
    showModel(model);
    setBusy('model', 'ready');
    rebuildForms();
    if (state.image) await setImage({ name: state.image.name, bytes: lastImageBytes! });
  } catch (e) {
    state.model = undefined;
    setBusy('model', 'error');
    const [message, code] = describeError(e);
    $('#model-info').textContent = 'no model loaded';
    showMessage(`Model: ${message}`, 'error', code);
  }
}

function showModel(m: ModelSummary): void {
  const info = $('#model-info');
  info.replaceChildren();
  info.dataset.runtime = m.runtime;
  const rows: [string, string][] = [
    ['model', m.name],
    ['runs on', `${m.backend}${m.threads > 1 ? `, ${m.threads} threads` : ''}`],
    ['input', `${m.inputShape.join('×')} (${m.layout})`],
    ['classes', m.numClasses <= 12 ? m.labels.join(', ') : `${m.numClasses}`],
    ['loaded in', `${m.loadMs.toFixed(0)} ms`],
  ];
  const dl = el('dl');
  for (const [k, v] of rows) dl.append(el('dt', { textContent: k }), el('dd', { textContent: v }));
  info.append(dl);
  for (const w of m.warnings) showMessage(w, 'info');
  const targets = [
    $<HTMLSelectElement>('#target'),
    $<HTMLSelectElement>('#compare-a-class'),
    $<HTMLSelectElement>('#compare-b-class'),
  ];
  for (const select of targets) {
    select.replaceChildren(new Option('top-1 class', 'top1'));
    for (const [i, l] of m.labels.entries()) select.add(new Option(`${i} · ${l}`, String(i)));
  }
}

function readPreprocess(): { mean: number[]; std: number[] } | undefined {
  const parse = (id: string) =>
    $<HTMLInputElement>(id)
      .value.split(/[\s,;]+/)
      .filter(Boolean)
      .map(Number);
  const mean = parse('#mean');
  const std = parse('#std');
  if (mean.length === 0 && std.length === 0) return undefined;
  if ([...mean, ...std].some((v) => !Number.isFinite(v)) || std.some((v) => v === 0)) {
    showMessage('Preprocessing: mean and std must be numbers (std not 0); using 0 and 1');
    return undefined;
  }
  return { mean: mean.length ? mean : [0], std: std.length ? std : [1] };
}

async function readFiles(list: FileList | File[]): Promise<FilePayload[]> {
  return Promise.all([...list].map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
}

async function useOwnModel(files: FilePayload[]): Promise<void> {
  let format: 'onnx' | 'tfjs';
  try {
    format = droppedFormat(files);
  } catch (e) {
    showMessage(`Model: ${describeError(e)[0]}`, 'error', 'invalid-input');
    return;
  }
  const runtime = $<HTMLSelectElement>('#runtime-select');
  if (format === 'onnx' && !isOnnxRuntime(runtime.value as RuntimeId)) runtime.value = 'ort-wasm';
  if (format === 'tfjs' && isOnnxRuntime(runtime.value as RuntimeId)) runtime.value = 'tfjs-wasm';
  state.source = { kind: 'files', files };
  $<HTMLSelectElement>('#zoo-select').value = '';
  await loadModel();
}

// ---- image --------------------------------------------------------------------------------------

let lastImageBytes: ArrayBuffer | undefined;

async function setImage(file: FilePayload): Promise<void> {
  if (!state.model) {
    showMessage('Load a model before choosing an image');
    return;
  }
  setBusy('image', 'loading');
  const bytes = file.bytes.slice(0);
  try {
    const { image } = await client.send<'image'>(
      { type: 'set-image', image: file },
      { transfer: [file.bytes] },
    ).done;
    lastImageBytes = bytes;
    state.image = image;
    showImage(image);
    setBusy('image', 'ready');
  } catch (e) {
    setBusy('image', state.image ? 'ready' : 'error');
    const [message, code] = describeError(e);
    showMessage(`Image: ${message}`, 'error', code);
  }
}

function showImage(image: ImageSummary): void {
  const canvas = $<HTMLCanvasElement>('#image-canvas');
  drawImage(canvas, { width: image.width, height: image.height, data: image.rgba });
  $('#image-name').textContent =
    `${image.name} (${image.originalWidth}×${image.originalHeight}` +
    `${image.originalWidth !== image.width || image.originalHeight !== image.height ? `, fitted to ${image.width}×${image.height}` : ''}) · forward ${image.forwardMs.toFixed(1)} ms`;
  const table = $('#predictions');
  table.replaceChildren();
  for (const p of image.predictions) {
    const row = el('tr');
    const bar = el('div', { className: 'bar' });
    bar.style.width = `${(100 * p.probability).toFixed(1)}%`;
    const cell = el('td');
    cell.append(bar);
    row.append(
      el('td', { textContent: p.label }),
      el('td', { textContent: `${(100 * p.probability).toFixed(1)}%` }),
      el('td', { textContent: p.logit.toFixed(2), title: 'logit' }),
      cell,
    );
    table.append(row);
  }
}

async function loadSamples(): Promise<void> {
  const box = $('#samples');
  box.replaceChildren();
  const entry =
    state.source.kind === 'zoo'
      ? state.zoo.find((z) => z.name === (state.source as { name: string }).name)
      : undefined;
  for (const s of entry?.samples ?? []) {
    const url = `${appBase}zoo/${entry!.name}/samples/${s}`;
    const button = el('button', { className: 'sample', title: s });
    button.dataset.sample = s;
    button.append(el('img', { src: url, alt: s }));
    button.onclick = async () => {
      const bytes = await (await fetch(url)).arrayBuffer();
      await setImage({ name: s, bytes });
    };
    box.append(button);
  }
}

// ---- methods ------------------------------------------------------------------------------------

const familyTitles: Record<Family, string> = {
  gradients: 'Gradients',
  cam: 'CAM',
  relevance: 'Relevance (LRP, DeepLIFT)',
  perturbation: 'Perturbation',
  synthesis: 'Synthesis',
  other: 'Other',
};

function buildMethodList(): void {
  const list = $('#method-list');
  const byFamily = new Map<Family, AnyExplainer[]>();
  for (const m of registry.list()) byFamily.set(m.family, [...(byFamily.get(m.family) ?? []), m]);
  for (const [family, methods] of byFamily) {
    const group = el('div', { className: 'family' });
    group.append(el('h4', { textContent: familyTitles[family] }));
    for (const m of methods) {
      const label = el('label', { className: 'method', title: `${m.description}\n${m.citation}` });
      label.dataset.method = m.id;
      const box = el('input', { type: 'checkbox', checked: defaultMethodIds.includes(m.id), value: m.id });
      box.onchange = rebuildForms;
      label.append(box, el('span', { textContent: m.title }));
      group.append(label);
    }
    list.append(group);
  }
  for (const id of ['#compare-a-method', '#compare-b-method']) {
    const select = $<HTMLSelectElement>(id);
    for (const m of registry.list()) select.add(new Option(m.title, m.id));
  }
  $<HTMLSelectElement>('#compare-a-method').value = 'saliency';
  $<HTMLSelectElement>('#compare-b-method').value = 'grad-cam';
  $<HTMLInputElement>('#method-filter').oninput = filterMethods;
}

/** Show only the methods whose id or title contains the filter text. */
function filterMethods(): void {
  const text = $<HTMLInputElement>('#method-filter').value.trim().toLowerCase();
  let shown = 0;
  for (const label of document.querySelectorAll<HTMLElement>('#method-list .method')) {
    const match =
      text === '' || label.dataset.method!.includes(text) || label.textContent!.toLowerCase().includes(text);
    label.hidden = !match;
    if (match) shown++;
  }
  $('#method-count').textContent = `${shown} shown`;
}

const checkedMethods = (): string[] =>
  [...document.querySelectorAll<HTMLInputElement>('#method-list input:checked')].map((b) => b.value);

/** One form per checked method, generated from its option specs; forms keep what was typed. */
function rebuildForms(): void {
  const box = $('#method-forms');
  const wanted = checkedMethods();
  const layers = state.model?.layers ?? [];
  for (const id of [...state.forms.keys()]) if (!wanted.includes(id)) state.forms.delete(id);
  for (const id of wanted)
    if (!state.forms.has(id)) state.forms.set(id, methodForm(registry.get(id), layers));
  box.replaceChildren(...wanted.map((id) => state.forms.get(id)!.element));
}

function runOptions(): {
  batchSize?: number;
  seed?: number;
  score?: 'logit' | 'softmax' | 'log-softmax' | 'sigmoid';
} {
  const batch = Number($<HTMLInputElement>('#batch-size').value);
  const seed = Number($<HTMLInputElement>('#seed').value);
  return {
    ...(Number.isInteger(batch) && batch > 0 ? { batchSize: batch } : {}),
    ...(Number.isInteger(seed) ? { seed } : {}),
    score: $<HTMLSelectElement>('#score').value as 'logit',
  };
}

// ---- runs and results ---------------------------------------------------------------------------

interface Job {
  readonly card: HTMLElement;
  readonly result: Promise<ExplainResult | undefined>;
}

const fileBase = (name: string) => name.replace(/\.[a-z0-9]+$/i, '');

/** Queue one explanation; its card shows progress, a cancel button, then the overlay. */
function runMethod(
  method: string,
  options: Record<string, unknown>,
  target: 'top1' | number,
  into: HTMLElement,
): Job {
  const explainer = registry.get(method);
  const card = el('article', { className: 'result' });
  card.dataset.method = method;
  card.dataset.status = 'queued';
  const label = target === 'top1' ? 'top-1 class' : (state.model?.labels[target] ?? String(target));
  const title = el('h3', { textContent: explainer.title });
  const sub = el('p', { className: 'sub', textContent: `${label} · ${state.model?.backend ?? ''}` });
  const progress = el('progress', { max: 1, value: 0 });
  const cancel = el('button', { textContent: 'Cancel', className: 'cancel' });
  const status = el('p', { className: 'status', textContent: 'queued' });
  card.append(title, sub, progress, status, cancel);
  into.append(card);
  const image = state.image!;
  const imageName = image.name;
  const runtime = state.model!.runtime;
  const started = performance.now();
  const request = client.send<'result'>(
    { type: 'explain', method, options, target, ...runOptions() },
    {
      onProgress(done, total) {
        card.dataset.status = 'running';
        progress.max = total;
        progress.value = done;
        status.textContent = `${done} / ${total}`;
      },
    },
  );
  cancel.onclick = () => client.cancel(request.id);
  const result = request.done.then(
    ({ result }) => {
      progress.remove();
      cancel.remove();
      const wall = performance.now() - started;
      status.textContent = `${result.milliseconds.toFixed(0)} ms in the method (${wall.toFixed(0)} ms with queueing and transfer)`;
      status.dataset.milliseconds = String(result.milliseconds);
      if (result.target !== null && target === 'top1')
        sub.textContent = `${state.model?.labels[result.target] ?? result.target} · ${state.model?.backend ?? ''}`;
      const base = { width: image.width, height: image.height, data: image.rgba } satisfies RgbaImage;
      const [rendered] = renderResults([result], base);
      const canvas = el('canvas', { className: 'overlay' });
      drawImage(canvas, rendered.overlay);
      const name = `${fileBase(imageName)}-${method}-${runtime}`;
      const links = el('p', { className: 'links' });
      links.append(
        downloadLink('map .npy', `${name}.npy`, npyBytes(result), 'application/octet-stream'),
        downloadLink('overlay .png', `${name}.png`, encodePng(rendered.overlay), 'image/png'),
      );
      card.insertBefore(canvas, status);
      card.insertBefore(colorBarElement(rendered), status);
      card.append(links);
      for (const w of result.warnings) card.append(el('p', { className: 'warning', textContent: w }));
      card.dataset.status = 'done';
      return result;
    },
    (e: unknown) => {
      progress.remove();
      cancel.remove();
      const [message, code] = describeError(e);
      card.dataset.status = code === 'aborted' ? 'cancelled' : 'error';
      status.textContent = code === 'aborted' ? 'cancelled' : message;
      if (code !== 'aborted') showMessage(`${explainer.title}: ${message}`, 'error', code);
      return undefined;
    },
  );
  return { card, result };
}

function ready(): boolean {
  if (!state.model || !state.image) {
    showMessage('Load a model and pick an image first');
    return false;
  }
  return true;
}

function explainChecked(): void {
  if (!ready()) return;
  const targetValue = $<HTMLSelectElement>('#target').value;
  const target = targetValue === 'top1' ? 'top1' : Number(targetValue);
  const row = el('div', { className: 'run' });
  $('#results').prepend(row);
  for (const id of checkedMethods()) {
    let options: Record<string, unknown>;
    try {
      options = state.forms.get(id)?.read() ?? {};
    } catch (e) {
      showMessage(describeError(e)[0], 'error', 'invalid-option');
      continue;
    }
    runMethod(id, options, target, row);
  }
}

/** Two methods, or one method for two classes, side by side; optionally on one colour scale. */
async function compare(): Promise<void> {
  if (!ready()) return;
  const pick = (side: 'a' | 'b') => {
    const method = $<HTMLSelectElement>(`#compare-${side}-method`).value;
    const cls = $<HTMLSelectElement>(`#compare-${side}-class`).value;
    return { method, target: cls === 'top1' ? ('top1' as const) : Number(cls) };
  };
  const row = el('div', { className: 'run compare' });
  $('#results').prepend(row);
  const sides = [pick('a'), pick('b')].map((p) => {
    let options: Record<string, unknown> = {};
    try {
      options = state.forms.get(p.method)?.read() ?? {};
    } catch (e) {
      showMessage(describeError(e)[0], 'error', 'invalid-option');
    }
    return runMethod(p.method, options, p.target, row);
  });
  if (!$<HTMLInputElement>('#compare-shared').checked) return;
  const results = await Promise.all(sides.map((s) => s.result));
  if (results.some((r) => !r)) return;
  const image = state.image!;
  const rendered = renderResults(
    results as ExplainResult[],
    { width: image.width, height: image.height, data: image.rgba },
    true,
  );
  sides.forEach((s, i) => {
    drawImage(s.card.querySelector('canvas.overlay')!, rendered[i].overlay);
    s.card.querySelector('.colorbar')!.replaceWith(colorBarElement(rendered[i]));
  });
  row.dataset.shared = 'true';
}

// ---- wiring -------------------------------------------------------------------------------------

function dropZone(
  zone: HTMLElement,
  input: HTMLInputElement,
  use: (files: FilePayload[]) => Promise<void>,
): void {
  zone.ondragover = (e) => {
    e.preventDefault();
    zone.classList.add('over');
  };
  zone.ondragleave = () => zone.classList.remove('over');
  zone.ondrop = async (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer?.files.length) await use(await readFiles(e.dataTransfer.files));
  };
  input.onchange = async () => {
    if (input.files?.length) await use(await readFiles(input.files));
    input.value = '';
  };
}

async function start(): Promise<void> {
  const ready = await client.send<'ready'>({ type: 'init', base: appBase }).done;
  state.webgpu = ready.webgpu;
  $('#env').textContent = [
    ready.isolated
      ? 'cross-origin isolated: wasm threads on'
      : 'not cross-origin isolated: wasm runs single-threaded',
    ready.webgpu ? 'WebGPU adapter found' : 'no WebGPU adapter',
  ].join(' · ');
  const runtime = $<HTMLSelectElement>('#runtime-select');
  for (const id of runtimeIds) {
    const option = new Option(runtimeTitles[id], id);
    option.disabled = id === 'ort-webgpu' && !ready.webgpu;
    runtime.add(option);
  }
  runtime.value = 'tfjs-wasm';
  state.zoo = (await (await fetch(`${appBase}zoo/index.json`)).json()) as ZooEntry[];
  const zooSelect = $<HTMLSelectElement>('#zoo-select');
  for (const z of state.zoo) zooSelect.add(new Option(`${z.name} — ${z.description}`, z.name));
  zooSelect.add(new Option('your own model (drop it below)', ''));
  zooSelect.value = 'shapes';
  zooSelect.onchange = async () => {
    if (zooSelect.value === '') {
      if (state.ownFiles) await useOwnModel(state.ownFiles);
      return;
    }
    state.source = { kind: 'zoo', name: zooSelect.value };
    state.image = undefined;
    await loadModel();
    await loadSamples();
    await pickFirstSample();
  };
  runtime.onchange = () => loadModel();
  buildMethodList();
  filterMethods();
  dropZone($('#model-drop'), $<HTMLInputElement>('#model-file'), async (files) => {
    state.ownFiles = files;
    await useOwnModel(files);
  });
  dropZone($('#image-drop'), $<HTMLInputElement>('#image-file'), async (files) => {
    if (files.length > 1)
      showMessage(`${files.length} images dropped; explaining the first, ${files[0].name}`, 'info');
    await setImage(files[0]);
  });
  $('#run').onclick = explainChecked;
  $('#compare').onclick = () => void compare();
  $('#clear').onclick = () => $('#results').replaceChildren();
  await loadModel();
  await loadSamples();
  await pickFirstSample();
  document.body.dataset.app = 'ready';
}

async function pickFirstSample(): Promise<void> {
  const first = document.querySelector<HTMLButtonElement>('#samples .sample');
  const url = first?.querySelector('img')?.src;
  if (url) await setImage({ name: first!.dataset.sample!, bytes: await (await fetch(url)).arrayBuffer() });
}

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  // Caches the app, its models and wasm files, so that it works offline once loaded.
  navigator.serviceWorker.register(`${appBase}sw.js`).catch((e: unknown) => {
    showMessage(`Offline use is unavailable: ${describeError(e)[0]}`, 'info');
  });
}

start().catch((e: unknown) => {
  document.body.dataset.app = 'error';
  showMessage(`The app could not start: ${describeError(e)[0]}`);
});
