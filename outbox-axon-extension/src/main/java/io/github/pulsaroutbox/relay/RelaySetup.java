package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.common.transaction.TransactionManager;

import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What a relay's stages are built from: its collaborators and settings (validated by {@link OutboxRelay.Builder}),
 * and the state that outlives a pipeline (the rows acknowledged but not recorded, what the transport looked like).
 *
 * @param claims    the segment claims, {@code null} without (one relay per outbox)
 * @param sequenced whether rows are sent with persisted broker sequence ids (claims and a transport that has them)
 * @param nanoTime  the monotonic clock of timeouts and intervals ({@code System::nanoTime})
 * @param threads   the stages' worker threads and waits ({@link RelayThreads#DAEMONS})
 */
record RelaySetup(OutboxStore store,
                  OutboxPublisher publisher,
                  RowTopics topics,
                  TransactionManager transactionManager,
                  int batchSize,
                  int maxInFlight,
                  Duration pollInterval,
                  Duration ackTimeout,
                  Clock clock,
                  LongSupplier nanoTime,
                  String name,
                  FailurePolicy failurePolicy,
                  OutboxMetrics metrics,
                  Supplier<EntryUpcaster> upcaster,
                  SegmentClaims claims,
                  boolean sequenced,
                  int segmentCount,
                  Set<Integer> allSegments,
                  FencedWrites writes,
                  NotRecordedRows notRecorded,
                  TransportWatch transport,
                  RelayThreads threads) {

    /** The longest a step waits for a signal: the poll interval, with claims no longer than a claim round. */
    Duration stepWait() {
        if (claims == null || claims.roundInterval().compareTo(pollInterval) >= 0) {
            return pollInterval;
        }
        return claims.roundInterval();
    }
}
