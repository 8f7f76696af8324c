package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * Readies a row for sending: brings its payload to the current schema version ({@link EntryUpcaster}) and resolves its
 * topic ({@link RowTopics}). A row that cannot be sent as it is fails with what it lacks, so that it is parked (or
 * retried, as the failure policy decides) instead of blocking the relay: a payload that could not be serialized at
 * capture ({@link FailureKind#UNREADABLE_PAYLOAD}), a failed upcast ({@link FailureKind#UPCAST_FAILED}), no topic
 * ({@link FailureKind#NO_ROUTE}).
 */
final class RowPreparation {

    /** The payload of a row whose payload could not be serialized at capture. */
    static final String PARKED_AT_CAPTURE = "null";

    private final Supplier<EntryUpcaster> upcaster;
    private final RowTopics topics;

    RowPreparation(Supplier<EntryUpcaster> upcaster, RowTopics topics) {
        this.upcaster = upcaster;
        this.topics = topics;
    }

    /** Sets the row's upcast entry and topic; returns {@code null} when it may be sent, else why not. */
    Attempt prepare(RelayRow row) {
        OutboxEntry entry = row.entry;
        if (PARKED_AT_CAPTURE.equals(entry.payload())) {
            return new Attempt(FailureKind.UNREADABLE_PAYLOAD, "The payload could not be serialized at capture: "
                    + "there is nothing to publish; discard the row");
        }
        try {
            row.sent = upcaster.get().upcast(entry);
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
            // the upcaster's own message says what is wrong; without one, at least what was thrown
            return new Attempt(FailureKind.UPCAST_FAILED, e.getMessage() != null ? e.getMessage() : e.toString());
        }
        Optional<String> topic;
        try {
            topic = topics.of(entry);
        } catch (RuntimeException e) {
            return new Attempt(FailureKind.NO_ROUTE, "Resolving the topic of aggregate type '"
                    + entry.aggregateType() + "' failed: " + e.getMessage());
        }
        if (topic.isEmpty()) {
            return new Attempt(FailureKind.NO_ROUTE, "No topic is configured for aggregate type '"
                    + entry.aggregateType() + "'");
        }
        row.topic = topic.get();
        return null;
    }
}
