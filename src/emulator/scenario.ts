/**
 * Scenarios: what happens in an emulated meeting, as JSON (see docs/scenarios.md).
 *
 * ```json
 * { "name": "standup", "duration_s": 30,
 *   "participants": [{ "user_id": 16778240, "user_name": "Ada", "video": true }],
 *   "timeline": [{ "at": 1, "type": "speak", "user_id": 16778240, "text": "Hello", "duration": 2 },
 *                { "at": 4, "type": "chat", "user_id": 16778240, "text": "link: …" }] }
 * ```
 * Times are seconds from the stream start. `speak` lines whose text matches a bundled speech line
 * use that real recording; other lines get a deterministic synthetic voice.
 */
import { readFileSync } from 'node:fs';
import { OpenRtmsError } from '../errors.js';
import { loadSpeech } from '../media/assets.js';
import { PRODUCTS, array, int, nonEmptyStr, num, object, oneOfStrings, optional, bool, type Product } from './scenario-schema.js';
import { mulberry32 } from './rng.js';

export type ItemType = 'speak' | 'chat' | 'join' | 'leave' | 'share_start' | 'share_stop' | 'video_on' | 'video_off' | 'chat_group';
const ITEM_TYPES: readonly ItemType[] = ['speak', 'chat', 'join', 'leave', 'share_start', 'share_stop', 'video_on', 'video_off', 'chat_group'];

/** What a `chat` item does (chat v2): a new message, an edit or delete of `message_id`, a reaction to it. */
export type ChatItemOperation = 'new' | 'update' | 'delete' | 'react' | 'unreact';
const CHAT_OPERATIONS: readonly ChatItemOperation[] = ['new', 'update', 'delete', 'react', 'unreact'];
/** Who a chat message is for (chat_session.type). `to` (a user id) makes it `individual`. */
export type ChatAudience = 'everyone' | 'individual' | 'chat_group' | 'hosts_and_panelists';
const AUDIENCES: readonly ChatAudience[] = ['everyone', 'individual', 'chat_group', 'hosts_and_panelists'];
/** A `chat_group` item's event (EVENT_UPDATE 10–14; meetings, webinars and sessions only). */
export type ChatGroupAction = 'create' | 'delete' | 'members_add' | 'members_delete' | 'member_status';
const GROUP_ACTIONS: readonly ChatGroupAction[] = ['create', 'delete', 'members_add', 'members_delete', 'member_status'];

export interface ScenarioParticipant {
  user_id: number;
  user_name: string;
  /** Seconds; default 0. */
  join_at?: number;
  leave_at?: number;
  /** Camera on from joining. Default true. */
  video?: boolean;
}
export interface ScenarioItem {
  at: number;
  type: ItemType;
  user_id: number;
  text?: string;
  /** Seconds of speech for synthetic lines. */
  duration?: number;
  // chat v2
  /** Id of the message; needed by update, delete, react, unreact (a new message without one gets `msg-<index>`). */
  message_id?: string;
  /** Default `new`. */
  operation?: ChatItemOperation;
  /** Thread parent of a new message. */
  parent_message_id?: string;
  /** A private message to this participant. */
  to?: number;
  audience?: ChatAudience;
  /** Emoji of react/unreact. */
  emoji?: string;
  // chat_group
  action?: ChatGroupAction;
  group_id?: string;
  /** User ids of members added, removed, or (member_status) updated. */
  members?: number[];
  /** member_status: ChatGroupMemberStatus (0 in the group, 1 breakout room, 2 waiting room, 3 backstage, 4 left). */
  status?: number;
}
export interface Scenario {
  name: string;
  product?: Product;
  duration_s: number;
  participants: ScenarioParticipant[];
  timeline: ScenarioItem[];
  /**
   * How chat goes on the wire: `v2` (default; `content.data` is a chat v2 JSON string, as Zoom sends since
   * July 2026) or `legacy` (plain text, as older servers did; only new messages are sent).
   */
  chat_format?: 'v2' | 'legacy';
}

const scenarioSchema = object(
  {
    name: nonEmptyStr(),
    product: optional(oneOfStrings(PRODUCTS)),
    duration_s: num(),
    participants: array(
      object({ user_id: int(), user_name: nonEmptyStr(), join_at: optional(num()), leave_at: optional(num()), video: optional(bool()) }, 'participant'),
      1000,
    ),
    timeline: array(
      object(
        {
          at: num(),
          type: oneOfStrings(ITEM_TYPES),
          user_id: int(),
          text: optional(nonEmptyStr()),
          duration: optional(num()),
          message_id: optional(nonEmptyStr()),
          operation: optional(oneOfStrings(CHAT_OPERATIONS)),
          parent_message_id: optional(nonEmptyStr()),
          to: optional(int()),
          audience: optional(oneOfStrings(AUDIENCES)),
          emoji: optional(nonEmptyStr()),
          action: optional(oneOfStrings(GROUP_ACTIONS)),
          group_id: optional(nonEmptyStr()),
          members: optional(array(int(), 1000)),
          status: optional(int()),
        },
        'timeline item',
      ),
      100_000,
    ),
    chat_format: optional(oneOfStrings(['v2', 'legacy'] as const)),
  },
  'scenario',
);

/** Validates a parsed scenario; the error names the field and what was expected. */
export function validateScenario(value: unknown, source = 'scenario'): Scenario {
  const issue = scenarioSchema.check(value, '');
  if (issue) throw new OpenRtmsError('CONFIG_INVALID', `${source}: field "${issue.path}" expected ${issue.expected}, got ${issue.received}`);
  const s = value as Scenario;
  if (!(s.duration_s > 0)) throw new OpenRtmsError('CONFIG_INVALID', `${source}: duration_s must be > 0`);
  const ids = new Set(s.participants.map((p) => p.user_id));
  s.timeline.forEach((item, i) => {
    if (!ids.has(item.user_id)) throw new OpenRtmsError('CONFIG_INVALID', `${source}: timeline[${i}].user_id ${item.user_id} is not a participant`);
    if (item.at < 0 || item.at > s.duration_s) throw new OpenRtmsError('CONFIG_INVALID', `${source}: timeline[${i}].at must be within 0..duration_s`);
    const bad = (what: string) => new OpenRtmsError('CONFIG_INVALID', `${source}: timeline[${i}] (${item.type}) ${what}`);
    const op = item.operation ?? 'new';
    if (item.type === 'speak' && !item.text) throw bad('needs "text"');
    if (item.type === 'chat') {
      if ((op === 'new' || op === 'update') && !item.text) throw bad(`(${op}) needs "text"`);
      if (op !== 'new' && !item.message_id) throw bad(`(${op}) needs "message_id"`);
      if ((op === 'react' || op === 'unreact') && !item.emoji) throw bad(`(${op}) needs "emoji"`);
      if (item.to !== undefined && !ids.has(item.to)) throw bad(`"to" ${item.to} is not a participant`);
    }
    if (item.type === 'chat_group') {
      if (!item.action) throw bad('needs "action" (create, delete, members_add, members_delete, member_status)');
      if (!item.group_id) throw bad('needs "group_id"');
      for (const m of item.members ?? []) if (!ids.has(m)) throw bad(`member ${m} is not a participant`);
    }
  });
  return s;
}

/** The built-in meeting: four people, the bundled speech in order (looping), chat, a screen share. */
export function demoScenario(durationS = 60): Scenario {
  const { lines } = loadSpeech();
  const people = new Map<number, string>();
  for (const l of lines) people.set(l.user_id, l.speaker);
  const participants = [...people].map(([user_id, user_name]) => ({ user_id, user_name, join_at: 0, video: true }));
  const timeline: ScenarioItem[] = [];
  const chats = ['Agenda is in the doc.', 'Dashboard link is in the channel.', '+1 on the failover test', 'Thanks all!'];
  let t = 0.5;
  let i = 0;
  let shared = false;
  while (true) {
    const line = lines[i % lines.length];
    const len = line.length_samples / 16000;
    if (t + len > durationS - 0.2) break;
    timeline.push({ at: round(t), type: 'speak', user_id: line.user_id, text: line.text });
    if (i % 3 === 1) timeline.push({ at: round(t + len / 2), type: 'chat', user_id: lines[(i + 1) % lines.length].user_id, text: chats[(i / 3) % chats.length | 0] });
    if (i === 4 && !shared) {
      timeline.push({ at: round(t), type: 'share_start', user_id: line.user_id });
      shared = true;
    }
    if (i === 7 && shared) timeline.push({ at: round(t), type: 'share_stop', user_id: lines[4].user_id });
    t += len + 0.6;
    i++;
  }
  timeline.push(...demoChatV2(participants.map((p) => p.user_id), durationS));
  return { name: 'demo', duration_s: durationS, participants, timeline: timeline.sort((a, b) => a.at - b.at) };
}

/**
 * The demo's chat v2 story, spread over the meeting: a welcome that gets a reaction and a threaded
 * reply, a message edited and later deleted, a private message, and a chat group's life.
 */
function demoChatV2(ids: number[], durationS: number): ScenarioItem[] {
  const [a, b, c] = [ids[0], ids[1 % ids.length], ids[2 % ids.length]];
  const at = (f: number) => round(durationS * f);
  return [
    { at: at(0.1), type: 'chat', user_id: a, message_id: 'demo-welcome', text: 'Welcome everyone!' },
    { at: at(0.2), type: 'chat', user_id: b, message_id: 'demo-edited', text: 'Standup moves to 10:30 tomorrow' },
    { at: at(0.25), type: 'chat_group', user_id: a, action: 'create', group_id: 'demo-group', members: [a, b] },
    { at: at(0.3), type: 'chat', user_id: c, operation: 'react', message_id: 'demo-welcome', emoji: '👍' },
    { at: at(0.4), type: 'chat', user_id: b, operation: 'update', message_id: 'demo-edited', text: 'Standup moves to 11:00 tomorrow' },
    { at: at(0.45), type: 'chat_group', user_id: a, action: 'members_add', group_id: 'demo-group', members: [c] },
    { at: at(0.5), type: 'chat', user_id: c, message_id: 'demo-reply', parent_message_id: 'demo-welcome', text: 'Thanks, glad to be here' },
    { at: at(0.55), type: 'chat_group', user_id: c, action: 'member_status', group_id: 'demo-group', members: [c], status: 1 },
    { at: at(0.6), type: 'chat', user_id: a, message_id: 'demo-private', to: b, text: 'Can you share the notes after the call?' },
    { at: at(0.65), type: 'chat_group', user_id: a, action: 'members_delete', group_id: 'demo-group', members: [c] },
    { at: at(0.7), type: 'chat', user_id: b, operation: 'delete', message_id: 'demo-edited' },
    { at: at(0.8), type: 'chat_group', user_id: a, action: 'delete', group_id: 'demo-group' },
  ];
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** `demo` or a path to a JSON scenario file. */
export function loadScenario(nameOrFile: string, durationS?: number): Scenario {
  if (nameOrFile === 'demo') return demoScenario(durationS ?? 60);
  let text: string;
  try {
    text = readFileSync(nameOrFile, 'utf8');
  } catch {
    throw new OpenRtmsError('CONFIG_INVALID', `scenario "${nameOrFile}" is neither "demo" nor a readable JSON file`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OpenRtmsError('CONFIG_INVALID', `scenario file ${nameOrFile} is not valid JSON: ${(err as Error).message}`);
  }
  const s = validateScenario(value, nameOrFile);
  if (durationS !== undefined) s.duration_s = durationS;
  return s;
}

// ---- compiled plan ------------------------------------------------------------------------------

export interface Speech {
  startMs: number;
  endMs: number;
  userId: number;
  userName: string;
  text: string;
  /** 16 kHz mono. */
  pcm: Int16Array;
}

export type PlanEvent =
  | { atMs: number; kind: 'join' | 'leave' | 'share_start' | 'share_stop' | 'video_on' | 'video_off' | 'active_speaker'; userId: number; userName: string }
  | {
      atMs: number;
      kind: 'chat';
      userId: number;
      userName: string;
      /** Empty for a delete or a reaction. */
      text: string;
      operation: 'new' | 'update' | 'delete' | 'reaction_add' | 'reaction_remove';
      messageId: string;
      parentMessageId?: string;
      audience: ChatAudience;
      to?: { userId: number; userName: string };
      emoji?: string;
    }
  | { atMs: number; kind: 'chat_group'; userId: number; userName: string; action: ChatGroupAction; groupId: string; members: { userId: number; userName: string }[]; status?: number }
  | { atMs: number; kind: 'transcript'; userId: number; userName: string; text: string; startMs: number; endMs: number };

export interface Plan {
  durationMs: number;
  names: Map<number, string>;
  speeches: Speech[];
  /** Sorted by time. */
  events: PlanEvent[];
  /** Camera state at time 0 (changed by video_on/off events). */
  initialVideo: Set<number>;
  /** See {@link Scenario.chat_format}. */
  chatFormat: 'v2' | 'legacy';
}

/** Deterministic synthetic voice: a voiced tone with syllable-rate amplitude envelope. */
export function syntheticVoice(userId: number, durationMs: number, seed: number): Int16Array {
  const rng = mulberry32(seed ^ userId);
  const n = Math.round((durationMs * 16000) / 1000);
  const f0 = 100 + (userId % 11) * 12 + rng() * 20;
  const phase = rng() * Math.PI * 2;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / 16000;
    const env = 0.5 - 0.5 * Math.cos(2 * Math.PI * 4 * t);
    const v = Math.sin(2 * Math.PI * f0 * t + phase) + 0.5 * Math.sin(4 * Math.PI * f0 * t) + 0.25 * Math.sin(6 * Math.PI * f0 * t + phase);
    out[i] = Math.round(6000 * env * v);
  }
  return out;
}

/** Turns a scenario into timed speech and events. */
export function compileScenario(s: Scenario, seed: number): Plan {
  const { pcm, lines } = loadSpeech();
  const byText = new Map(lines.map((l) => [l.text, l]));
  const names = new Map(s.participants.map((p) => [p.user_id, p.user_name]));
  const speeches: Speech[] = [];
  const events: PlanEvent[] = [];
  const initialVideo = new Set<number>();
  const durationMs = Math.round(s.duration_s * 1000);
  let chatIndex = 0;
  for (const p of s.participants) {
    const at = Math.round((p.join_at ?? 0) * 1000);
    events.push({ atMs: at, kind: 'join', userId: p.user_id, userName: p.user_name });
    if (p.video !== false) {
      if (at === 0) initialVideo.add(p.user_id);
      else events.push({ atMs: at, kind: 'video_on', userId: p.user_id, userName: p.user_name });
    }
    if (p.leave_at !== undefined) events.push({ atMs: Math.round(p.leave_at * 1000), kind: 'leave', userId: p.user_id, userName: p.user_name });
  }
  for (const item of s.timeline) {
    const atMs = Math.round(item.at * 1000);
    const userName = names.get(item.user_id)!;
    if (item.type === 'speak') {
      const asset = byText.get(item.text!);
      const voice = asset
        ? pcm.subarray(asset.offset_samples, asset.offset_samples + asset.length_samples)
        : syntheticVoice(item.user_id, Math.round((item.duration ?? Math.min(6, Math.max(1, item.text!.length * 0.06))) * 1000), seed + atMs);
      const endMs = Math.min(durationMs, atMs + Math.round((voice.length * 1000) / 16000));
      speeches.push({ startMs: atMs, endMs, userId: item.user_id, userName, text: item.text!, pcm: voice });
      events.push({ atMs, kind: 'active_speaker', userId: item.user_id, userName });
      events.push({ atMs: endMs, kind: 'transcript', userId: item.user_id, userName, text: item.text!, startMs: atMs, endMs });
    } else if (item.type === 'chat') {
      const op = item.operation ?? 'new';
      const to = item.to !== undefined ? { userId: item.to, userName: names.get(item.to)! } : undefined;
      events.push({
        atMs,
        kind: 'chat',
        userId: item.user_id,
        userName,
        text: item.text ?? '',
        operation: op === 'react' ? 'reaction_add' : op === 'unreact' ? 'reaction_remove' : op,
        messageId: item.message_id ?? `msg-${chatIndex}`,
        ...(item.parent_message_id ? { parentMessageId: item.parent_message_id } : {}),
        audience: item.audience ?? (to ? 'individual' : 'everyone'),
        ...(to ? { to } : {}),
        ...(item.emoji ? { emoji: item.emoji } : {}),
      });
      chatIndex++;
    } else if (item.type === 'chat_group') {
      const members = (item.members ?? []).map((u) => ({ userId: u, userName: names.get(u)! }));
      events.push({ atMs, kind: 'chat_group', userId: item.user_id, userName, action: item.action!, groupId: item.group_id!, members, ...(item.status !== undefined ? { status: item.status } : {}) });
    } else {
      events.push({ atMs, kind: item.type, userId: item.user_id, userName });
    }
  }
  events.sort((a, b) => a.atMs - b.atMs);
  speeches.sort((a, b) => a.startMs - b.startMs);
  return { durationMs, names, speeches, events, initialVideo, chatFormat: s.chat_format ?? 'v2' };
}

/**
 * The 16 kHz mono PCM of the mixed track for [fromMs, fromMs + ms): every active speech summed and
 * clipped. Exported so tests can compare a recording sample-exactly with what was sent.
 */
export function mixedPcm(plan: Plan, fromMs: number, ms: number): Int16Array {
  const n = (ms * 16000) / 1000;
  const out = new Int16Array(n);
  const from = (fromMs * 16000) / 1000;
  let acc: Int32Array | undefined;
  for (const sp of plan.speeches) {
    if (sp.startMs >= fromMs + ms) break;
    // The speech's real extent (endMs is rounded to the millisecond; its last samples may lie beyond it).
    if (sp.startMs + sp.pcm.length / 16 <= fromMs) continue;
    acc ??= new Int32Array(n);
    const offset = from - (sp.startMs * 16000) / 1000;
    for (let i = 0; i < n; i++) {
      const j = offset + i;
      if (j >= 0 && j < sp.pcm.length) acc[i] += sp.pcm[j];
    }
  }
  if (acc) for (let i = 0; i < n; i++) out[i] = acc[i] > 32767 ? 32767 : acc[i] < -32768 ? -32768 : acc[i];
  return out;
}

/** Speakers active in [fromMs, fromMs + ms), at most `max`, with their 16 kHz PCM for the interval. */
export function speakerPcm(plan: Plan, fromMs: number, ms: number, max = 3): { userId: number; userName: string; pcm: Int16Array }[] {
  const n = (ms * 16000) / 1000;
  const from = (fromMs * 16000) / 1000;
  const out: { userId: number; userName: string; pcm: Int16Array }[] = [];
  for (const sp of plan.speeches) {
    if (out.length >= max || sp.startMs >= fromMs + ms) break;
    if (sp.startMs + sp.pcm.length / 16 <= fromMs) continue;
    const pcm = new Int16Array(n);
    const offset = from - (sp.startMs * 16000) / 1000;
    for (let i = 0; i < n; i++) {
      const j = offset + i;
      if (j >= 0 && j < sp.pcm.length) pcm[i] = sp.pcm[j];
    }
    out.push({ userId: sp.userId, userName: sp.userName, pcm });
  }
  return out;
}
