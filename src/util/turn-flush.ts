// Work that should happen once per event-loop turn, whatever the turn brought:
// a connection that got three replies in one turn writes them in one socket write.
// One setImmediate serves every item registered in the turn (not one per item).
//
// Timing: items registered while the flush runs (or by later immediates of the same
// check phase) are flushed in the next turn, as a setImmediate of their own would be.

export interface TurnFlushable {
  /** Called once, at the end of the turn in which flushAtEndOfTurn() registered it. */
  flushTurn(): void;
}

let dirty: TurnFlushable[] = [];
let scheduled = false;

/** Registers `item` for this turn's flush. The caller registers each item at most once per turn. */
export function flushAtEndOfTurn(item: TurnFlushable): void {
  dirty.push(item);
  if (!scheduled) {
    scheduled = true;
    setImmediate(runTurnFlush);
  }
}

function runTurnFlush(): void {
  scheduled = false;
  const items = dirty;
  dirty = [];
  for (const item of items) item.flushTurn();
}
