/** `openrtms_llm_*` metrics: requests, tokens and cost per provider and model, redactions, lines dropped. */
import { Counter, type Registry } from 'prom-client';
import type { LlmObserver } from './summarizer.js';
import type { IntelligenceConfig } from './types.js';

export class LlmMetrics {
  readonly #requests: Counter<'provider' | 'model' | 'purpose' | 'outcome'>;
  readonly #tokens: Counter<'provider' | 'model' | 'direction'>;
  readonly #cost: Counter<'provider' | 'model'>;
  readonly #redactions: Counter<'kind'>;
  readonly #dropped: Counter;

  constructor(
    private readonly config: IntelligenceConfig,
    register?: Registry,
  ) {
    const registers = register ? [register] : [];
    this.#requests = new Counter({ name: 'openrtms_llm_requests_total', help: 'LLM requests, by purpose (notes, summary, answer) and outcome (ok, error)', labelNames: ['provider', 'model', 'purpose', 'outcome'], registers });
    this.#tokens = new Counter({ name: 'openrtms_llm_tokens_total', help: 'LLM tokens as the API counted them, by direction (input, output)', labelNames: ['provider', 'model', 'direction'], registers });
    this.#cost = new Counter({ name: 'openrtms_llm_cost_usd_total', help: 'LLM cost in USD at the configured prices (intelligence.pricing)', labelNames: ['provider', 'model'], registers });
    this.#redactions = new Counter({ name: 'openrtms_llm_redactions_total', help: 'E-mail addresses and phone numbers replaced before sending, by kind', labelNames: ['kind'], registers });
    this.#dropped = new Counter({ name: 'openrtms_llm_lines_dropped_total', help: 'Transcript and chat lines not kept for notes because a stream exceeded the bound', registers });
    const labels = { provider: config.provider, model: config.model };
    // Shown at 0 from the start, so dashboards and alerts find the series before the first request.
    this.#tokens.inc({ ...labels, direction: 'input' }, 0);
    this.#tokens.inc({ ...labels, direction: 'output' }, 0);
    if (config.pricing) this.#cost.inc(labels, 0);
  }

  /** USD of `usage` at the configured prices (undefined without prices). */
  cost(usage: { inputTokens: number; outputTokens: number }): number | undefined {
    const p = this.config.pricing;
    return p ? (usage.inputTokens * p.inputPerMillion + usage.outputTokens * p.outputPerMillion) / 1e6 : undefined;
  }

  readonly observe: LlmObserver = (e) => {
    const labels = { provider: this.config.provider, model: this.config.model };
    this.#requests.inc({ ...labels, purpose: e.purpose, outcome: e.error ? 'error' : 'ok' });
    if (e.redacted.email) this.#redactions.inc({ kind: 'email' }, e.redacted.email);
    if (e.redacted.phone) this.#redactions.inc({ kind: 'phone' }, e.redacted.phone);
    if (!e.usage) return;
    this.#tokens.inc({ ...labels, direction: 'input' }, e.usage.inputTokens);
    this.#tokens.inc({ ...labels, direction: 'output' }, e.usage.outputTokens);
    const usd = this.cost(e.usage);
    if (usd !== undefined) this.#cost.inc(labels, usd);
  };

  dropped(n = 1): void {
    this.#dropped.inc(n);
  }
}
