import { readFileSync } from 'node:fs';
import { XlensError } from '@xlens/core';
import { type Command, parseCommandLine, UsageError } from './args.js';
import { layersCommand, methodsCommand, predictCommand } from './commands.js';
import { evaluateCommand } from './evaluate-command.js';
import { explainCommand, type Io } from './explain-command.js';
import { metricsCommand } from './metrics-command.js';
import { printable } from './table.js';
import { visualizeCommand } from './visualize-command.js';
import { workerCommand } from './worker-command.js';

const usage: Record<Command | 'main', string> = {
  main: `xlens — explain image classifiers

Usage: xlens <command> [options]

Commands:
  explain    explain inputs with attribution methods and write a report (default)
  evaluate   score attributions with evaluation metrics and write a report
  visualize  show what a model has learned: class visualisations, objectives, inversions
  methods    list every method with its options and defaults
  metrics    list every evaluation metric: category, direction, range, options
  layers     list a model's layers and the automatic CAM layer
  predict    print the top classes of inputs
  worker     compute evaluation units from a Redis queue (xlens evaluate --queue)
  help       show help for a command

Run "xlens explain" with no options for a demo on the bundled shapes model.
Run "xlens help explain" for every option.`,
  explain: `Usage: xlens explain [options]

Model and inputs:
  -m, --model M         tfjs model.json (or its folder), .onnx file, or a zoo model name
      --backend B       tfjs-wasm (default for tfjs), tfjs-cpu, tfjs-node (if installed), onnx
      --labels FILE     class labels: JSON array or one per line
  -i, --image PATH      PNG/JPEG image or a folder of images; repeatable
      --input X.npy     float32 batch, already preprocessed (NCHW or NHWC, see --layout)
Preprocessing of images (x = (pixel/255 − mean) / std, after resize and centre crop):
      --size N|HxW      input size where the model leaves it open
      --mean M[,M,M]    per-channel mean in 0..1 units (default 0)
      --std S[,S,S]     per-channel std in 0..1 units (default 1)
      --bgr             feed channels in B,G,R order
      --layout L        layout of the --input array: NCHW or NHWC (default: the model's);
                        with --size, also the layout of an ONNX model with symbolic dims
Methods:
      --method SPEC     name or name:key=value,key=value; repeatable (see xlens methods)
  -t, --target T        top1 (default), a class index, a label, or a comma list (one per input)
      --layer NAME      layer for CAM methods (default: the last spatial layer)
      --score S         logit (default), softmax, log-softmax, sigmoid
      --batch-size N    items per model pass for sample-based methods (default 16)
      --seed N          seed of every random draw (default 0)
Output:
  -o, --out DIR         output folder (default xlens-report), replaced when complete
      --format LIST     comma list of html, png, npy, json (default html,png)
      --top K           predictions shown per input (default 5)
      --normalize MODE  auto (default: signed for maps with both signs, else abs, both
                        clipped at p99), abs,
                        signed, percentile, minmax
      --clip P          percentile of |value| at the ends of the colour scale
                        (auto: 99; abs, signed: 100; percentile: 99)
      --shared-scale    one colour scale across all maps
      --colormap NAME   lagoon, ember (default), dusk, gray, blue-red
  -q, --quiet           no progress on stderr`,
  methods: `Usage: xlens methods [--json]

Lists every registered method: family, what it needs from the model, options with type, default and meaning.`,
  layers: `Usage: xlens layers [--model M] [--backend B] [--json]

Lists layer names, kinds and output shapes, and marks the layer CAM methods pick automatically.`,
  evaluate: `Usage: xlens evaluate [options]

Model and inputs (as for explain), plus:
      --dataset NAME    the first --count items of a bundled data set (shapes, shapes-shortcut,
                        mnist) with their ground-truth masks and boxes (shapes sets)
      --count N         items of --dataset (default 12)
      --masks M.npy     ground-truth masks N×H×W (0/1) for --image/--input
What to evaluate:
      --method SPEC     explainer to evaluate, name or name:key=value; repeatable
      --attribution A.npy  precomputed maps instead (N×H×W or the input's shape)
      --metric SPEC     name or name:key=value; repeatable (see xlens metrics; default: every
                        metric the data allows except the slow robustness ones)
  -t, --target T        top1 (default), a class index, a label, or a comma list
      --score S         how metrics read the target score (default: each metric's paper)
      --batch-size N    rows per model pass (default 16)
      --seed N          seed of every random draw (default 0)
Output:
  -o, --out DIR         output folder (default xlens-eval), replaced when complete
      --format LIST     comma list of json, csv, html (default all): results.json with per-item
                        scores and curves, scores.csv, index.html with the summary and curves
  -q, --quiet           no progress on stderr
Data-set scale (the job engine, @xlens/runner; used when any of these is given, or when
--dataset is a folder or shards):
      --dataset D       also a folder of images, a folder of .npy/.npz shards, or a comma list
                        of shards (.npz: x, optional labels and masks)
      --annotations F   for a folder of images: JSON {"file.png": {"label": 3, "box": [x0,y0,x1,y1]}}
      --threads N       worker threads, each with its own model session (default: the cores)
      --unit-size N     items per work unit (default 50)
      --db FILE         SQLite results (default OUT/results.sqlite); rerunning resumes
      --queue URL       redis://host:port: enqueue units for \`xlens worker\` processes on any machine
Writes scores.csv, scores.jsonl, summary.json and index.html, read from the database.
The review suite (its own models, methods and data; takes --out, --seed, --batch-size, --quiet):
      --suite review    the review's Tables 1 and 3 measured on the zoo's shapes models, explanation
                        manipulation and model-randomisation curves, next to the published values:
                        index.html and results.json in --out (default xlens-review)
      --quick           a small, fast run of the suite (what the tests run)`,
  metrics: `Usage: xlens metrics [--json]

Lists every evaluation metric: category, which way is better, range, what it needs, options with defaults.`,
  predict: `Usage: xlens predict [--model M] (--image PATH... | --input X.npy) [--top K] [--json]

Prints the top classes with probabilities. Takes the model, input and preprocessing options of explain.`,
  visualize: `Usage: xlens visualize [options]

Synthesises images that show what a model has learned (@xlens/synthesis) and writes a report with
the image every k steps, the model's top class for each result, and the first-layer filters.
  -m, --model M         as for explain (default: the zoo shapes model); a model that states no
                        input range is taken to read pixel/255, [0, 1] (method option range=lo;hi)
      --backend B       tfjs-wasm (default for tfjs), tfjs-cpu, tfjs-node (if installed), onnx
      --method SPEC     activation-maximisation (default), class-model or inversion, with options
                        as name:key=value,… (see xlens methods --json for them)
      --objective OBJ   what to maximise; repeatable (default: every class): class:3,
                        class:3:probability, unit:LAYER:K[:Y:X], channel:LAYER:K[:centre],
                        layer:LAYER, diversity:LAYER, sums and differences (class:3 - 0.5*class:5)
  -i, --image PATH      images: inversion inverts them (default: zoo samples)
      --layer L[,L…]    inversion: the layers whose codes are matched, one reconstruction each
      --steps N         optimisation steps (default: the method's)
      --snapshot-every K  keep the image every K steps (default: an eighth of the steps)
      --batch-size N    images per model pass (default 16)
      --seed N          seed of the start noise and random transformations (default 0)
  -o, --out DIR         output folder (default xlens-visualize), replaced when complete
      --format LIST     comma list of html, png, npy, json (default all)
  -q, --quiet           no progress on stderr`,
  worker: `Usage: xlens worker --queue redis://host:port [--threads N] [-q]

Computes units of \`xlens evaluate --queue\` runs on this machine's worker threads until stopped
(Ctrl-C finishes the running units). The model and data set paths of the run must exist on this
machine with the same content (checked by hash).`,
  help: 'Usage: xlens help [command]',
};

/** The package version, for --version. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** One line for any error: its message's first line, prefixed with its code when it has one. */
export function errorLine(e: unknown): string {
  const message = printable((e instanceof Error ? e.message : String(e)).split('\n')[0].trim());
  return e instanceof XlensError ? `xlens: error [${e.code}]: ${message}` : `xlens: error: ${message}`;
}

/**
 * Run the CLI with `argv` (without node and script) and return the exit code: 0 on success, 2 for
 * usage errors, 1 for everything else. Errors are reported as one line on stderr.
 */
export async function main(
  argv: readonly string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  try {
    const args = parseCommandLine(argv);
    if (args.version) {
      io.stdout.write(`${version()}\n`);
      return 0;
    }
    switch (args.command) {
      case 'help': {
        const topic = args.topic ?? 'main';
        if (!(topic in usage))
          throw new UsageError(
            `no help for ${JSON.stringify(topic)}; commands: explain, evaluate, visualize, methods, metrics, layers, predict, worker`,
          );
        io.stdout.write(`${usage[topic as Command]}\n`);
        return 0;
      }
      case 'explain':
        return await explainCommand(args.values, io);
      case 'evaluate':
        return await evaluateCommand(args.values, io);
      case 'visualize':
        return await visualizeCommand(args.values, io);
      case 'methods':
        methodsCommand(args.values, io);
        return 0;
      case 'metrics':
        metricsCommand(args.values, io);
        return 0;
      case 'layers':
        await layersCommand(args.values, io);
        return 0;
      case 'predict':
        await predictCommand(args.values, io);
        return 0;
      case 'worker':
        return await workerCommand(args.values, io);
    }
  } catch (e) {
    if (process.env.XLENS_DEBUG) io.stderr.write(`${(e as Error).stack ?? e}\n`);
    io.stderr.write(`${errorLine(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}
