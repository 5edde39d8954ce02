import type { RunProgressEvent } from './embedded.js';

/** `1h02m`, `4m05s`, `12s`, or `–` for an unknown duration. */
export function durationText(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** One progress line: a bar, units done of total, lost units, elapsed time and ETA. */
export function progressText(p: RunProgressEvent, width = 24): string {
  const fraction = p.total > 0 ? p.done / p.total : 1;
  const filled = Math.round(fraction * width);
  const lost = p.lost > 0 ? ` · ${p.lost} lost` : '';
  const resumed = p.resumed > 0 ? ` · ${p.resumed} from an earlier run` : '';
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${p.done}/${p.total} units${resumed}${lost} · ${durationText(p.elapsedMs)} elapsed · ETA ${durationText(p.etaMs)}`;
}
