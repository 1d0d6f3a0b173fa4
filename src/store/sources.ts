/** Transcript track names (`source`): Zoom's own track is `zoom`; the others are `transcription` entry names. */
export const ZOOM_SOURCE = 'zoom';

/** `zoom` first, then the providers' tracks by name. */
export function sortSources(sources: string[]): string[] {
  return [...new Set(sources)].sort((a, b) => (a === ZOOM_SOURCE ? -1 : b === ZOOM_SOURCE ? 1 : a.localeCompare(b)));
}
