package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;

/** A working set for recorder tests that do not look at it. */
final class NoWorkingSet implements OutcomeRecorder.WorkingSet {
    @Override
    public void forget(String rowId) {
    }

    @Override
    public void failureSettled(OutboxEntry entry) {
    }

    @Override
    public void releaseBlockedKeys() {
    }
}
