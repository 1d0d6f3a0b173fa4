/**
 * Participant-written text about to be printed on a terminal: every control character (ESC starting
 * an ANSI or OSC sequence, a C1 CSI, BEL, backspace, line breaks) and lone surrogate becomes a space,
 * so a chat line can neither drive the terminal nor forge output lines.
 */
export function forTerminal(s: string): string {
  return s.replace(/[\p{Cc}\p{Cs}]+/gu, ' ');
}
