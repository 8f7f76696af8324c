package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.common.transaction.TransactionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.LongSupplier;

/**
 * Finds out what the broker stored of a segment's rows that carry a sequence id, before the segment sends again (after
 * it was claimed, or after a send of unknown outcome): new producer sessions per topic return the last sequence id
 * stored under the segment's producer name, per partition. Rows at or below it in the partition they were sent to are
 * recorded SENT (never sent again); rows above it have their id cleared (they get a new one). Nothing of an earlier
 * session can be stored after the new one opened, so the answer is final. The outcome is written fenced by the
 * segment's claim ({@link FencedWrites#write}).
 * <p>
 * Never blocks the relay thread: while producers open, {@link #resolve} answers {@link Result#WAITING} and is asked
 * again; it reads the segment's rows again only once an opening finished or timed out. Owns the openings each started
 * resolution waits for.
 */
final class SegmentResolver {

    private static final Logger logger = LoggerFactory.getLogger(SegmentResolver.class);

    /** What a call of {@link #resolve} came to. */
    enum Result {
        /** Producers are still opening: ask again at a later step. */
        WAITING,
        /** A producer could not be opened (or a topic not resolved): its sessions are closed; try again later. */
        FAILED,
        /** The claim lapsed meanwhile: nothing written, sessions closed. */
        LAPSED,
        /** Every row with an id is recorded SENT or cleared: the segment may send. */
        RESOLVED
    }

    private final OutboxStore store;
    private final TransactionManager transactionManager;
    private final FencedWrites writes;
    private final SegmentClaims claims;
    private final ProducerSessions sessions;
    private final RowTopics topics;
    /** Whether a row's id is known never to have reached the broker (its clearing waits for a recording). */
    private final BiPredicate<String, Long> neverStored;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final long ackTimeoutNanos;
    /** Resolutions started (their sessions were closed), with the openings each waits for. */
    private final Map<Integer, List<ProducerSessions.Opening>> started = new HashMap<>();
    /** Per segment, why its last resolution failed (logged as a warning once, until it changes or succeeds). */
    private final Map<Integer, String> failedBecause = new HashMap<>();

    @SuppressWarnings("java:S107") // the relay's collaborators, wired once by the relay
    SegmentResolver(OutboxStore store, TransactionManager transactionManager, FencedWrites writes, SegmentClaims claims,
                    ProducerSessions sessions, RowTopics topics, BiPredicate<String, Long> neverStored, Clock clock,
                    LongSupplier nanoTime, Duration ackTimeout) {
        this.store = store;
        this.transactionManager = transactionManager;
        this.writes = writes;
        this.claims = claims;
        this.sessions = sessions;
        this.topics = topics;
        this.neverStored = neverStored;
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.ackTimeoutNanos = ackTimeout.toNanos();
    }

    /** Whether a resolution of the segment started (its producers may be opening). */
    boolean started(int segment) {
        return started.containsKey(segment);
    }

    /** Forgets a started resolution (the segment stopped, or its claim lapsed). */
    void abandon(int segment) {
        started.remove(segment);
        failedBecause.remove(segment);
    }

    /** Starts or continues resolving the segment. */
    Result resolve(int segment) {
        List<ProducerSessions.Opening> awaited = started.get(segment);
        if (awaited == null) {
            sessions.closeSegment(segment); // nothing sent before can be stored once the new sessions are open
            awaited = new ArrayList<>();
            started.put(segment, awaited);
        } else {
            long now = nanoTime.getAsLong();
            if (!awaited.isEmpty() && awaited.stream().noneMatch(o -> o.future.isDone()
                    || now - o.startedNanos - ackTimeoutNanos >= 0)) {
                return Result.WAITING; // nothing new to learn yet: no database read per step while the broker is asked
            }
        }
        List<OutboxStore.Sequenced> rows =
                transactionManager.fetchInTransaction(() -> store.fetchSequencedWithPartitions(segment));
        Map<String, OutboxPublisher.Session> opened = new HashMap<>();
        String current = null;
        try {
            boolean waiting = false;
            awaited.clear();
            for (OutboxStore.Sequenced row : rows) {
                current = row.entry().topic();
                Optional<String> topic = topics.of(row.entry()); // a failure: resolved again later
                if (topic.isEmpty() || opened.containsKey(topic.get())) {
                    continue;
                }
                current = topic.get();
                ProducerSessions.Opening opening = sessions.opening(topic.get(), segment);
                if (opening.underWay()) {
                    waiting = true; // asked again at a later step: this thread never waits for the broker
                    awaited.add(opening);
                    continue;
                }
                opened.put(topic.get(), sessions.sessionFor(opening));
            }
            if (waiting) {
                return Result.WAITING;
            }
        } catch (RuntimeException e) {
            started.remove(segment);
            sessions.closeSegment(segment);
            reportFailure(segment, current, e.getMessage());
            return Result.FAILED;
        }
        started.remove(segment);
        failedBecause.remove(segment);
        if (!claims.isValid(segment)) {
            sessions.closeSegment(segment);
            return Result.LAPSED;
        }
        record(segment, rows, opened);
        return Result.RESOLVED;
    }

    /**
     * A segment whose resolution fails sends none of its rows (of any topic) until it succeeds: the first failure, and
     * each new reason, is a warning naming the topic; repeats of the same reason are logged at debug level.
     */
    private void reportFailure(int segment, String topic, String reason) {
        String because = "topic " + (topic == null ? "(unknown)" : topic) + ": " + reason;
        if (because.equals(failedBecause.put(segment, because))) {
            logger.debug("Outbox relay: resolving segment {} failed again ({}); trying again later", segment, because);
        } else {
            logger.warn("Outbox relay: segment {} cannot be resolved, so none of its rows is sent: asking the broker "
                                + "what it stored failed for {}; trying again later", segment, because);
        }
    }

    /** Compares each row's id with what its partition stored, adopts the new sessions, writes the outcome. */
    private void record(int segment, List<OutboxStore.Sequenced> rows, Map<String, OutboxPublisher.Session> opened) {
        Map<String, Long> stored = new HashMap<>();
        Map<String, Long> notStored = new HashMap<>();
        int moved = 0;
        for (OutboxStore.Sequenced row : rows) {
            OutboxEntry entry = row.entry();
            Optional<String> topic = topics.of(entry);
            OutboxPublisher.Session session = topic.map(opened::get).orElse(null);
            if (session == null) { // no topic, or the topic refuses producers: nothing can be stored there
                notStored.put(entry.id(), entry.brokerSequence());
                continue;
            }
            // what the broker stored in the partition the row was sent to: the key may route elsewhere now
            // (partitions added); a partition that no longer exists holds nothing (sent again: at least once)
            long last;
            if (row.partition() == OutboxStore.Sequenced.NO_PARTITION) {
                last = session.lastStored(entry.aggregateId()); // its id was stored by a version before schema 5
            } else {
                last = session.lastStoredIn(row.partition());
                if (session.partitionOf(entry.aggregateId()) != row.partition()) {
                    moved++;
                }
            }
            boolean wasStored = entry.brokerSequence() <= last
                    && !neverStored.test(entry.id(), entry.brokerSequence());
            (wasStored ? stored : notStored).put(entry.id(), entry.brokerSequence());
        }
        if (moved > 0) {
            logger.info("Outbox relay: segment {}: {} row(s) were sent to a partition their key no longer routes "
                                + "to (partitions were added to their topic); resolved against that partition",
                        segment, moved);
        }
        for (Map.Entry<String, OutboxPublisher.Session> session : opened.entrySet()) {
            if (session.getValue() != null) {
                sessions.opened(session.getKey() + '\u0000' + segment, session.getKey(), session.getValue());
                claims.raise(segment, session.getValue().highestStored());
            }
        }
        writes.write(Set.of(segment), () -> {
            store.markStored(stored, clock.instant());
            store.clearSequences(notStored);
            return null;
        });
        if (!rows.isEmpty()) {
            logger.info("Outbox relay: segment {} resolved: {} row(s) the broker had stored recorded SENT, {} "
                                + "row(s) it had not get new sequence ids", segment, stored.size(), notStored.size());
        }
    }
}
