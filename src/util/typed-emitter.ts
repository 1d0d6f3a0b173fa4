/**
 * An EventEmitter whose event names and listener arguments are checked by the compiler. The types
 * are all there is to it: at run time the methods are EventEmitter's own, so emitting a media frame
 * costs no extra call, rest array or spread.
 */
import { EventEmitter } from 'node:events';

type Listener<Events, K extends keyof Events> = (...args: Events[K] & unknown[]) => void;

export interface TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  on<K extends keyof Events & string>(event: K, listener: Listener<Events, K>): this;
  once<K extends keyof Events & string>(event: K, listener: Listener<Events, K>): this;
  off<K extends keyof Events & string>(event: K, listener: Listener<Events, K>): this;
  emit<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean;
}

export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> extends EventEmitter {}
