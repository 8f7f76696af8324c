package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.common.transaction.TransactionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;
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
 * Resolution is per topic: a topic whose producer cannot be opened (not authorized, not found yet, unreachable) is
 * <em>held</em> — none of the segment's rows of that topic is taken into the relay's working set
 * ({@link #holds}) and its rows with ids are left as they are — while the segment's other topics are resolved and
 * flow. Held topics are resolved later by {@link #resolveHeld}, without closing the segment's other producers.
 * <p>
 * Never blocks the relay thread: while producers open, a resolution answers {@link Result#WAITING} and is asked
 * again; it reads the segment's rows again only once an opening finished or timed out. Owns the openings each started
 * resolution waits for, the held topics of each segment, and the rows read for several segments at once (used within
 * that one call).
 */
final class SegmentResolver {

    private static final Logger logger = LoggerFactory.getLogger(SegmentResolver.class);

    /** What a call of {@link #resolve} or {@link #resolveHeld} came to. */
    enum Result {
        /** Producers are still opening: ask again at a later step. */
        WAITING,
        /** The segment's topics could not be read (no topic resolved): its sessions are closed; try again later. */
        FAILED,
        /** The claim lapsed meanwhile: nothing written, sessions closed. */
        LAPSED,
        /** Every row with an id is recorded SENT or cleared: the segment may send. */
        RESOLVED,
        /**
         * Resolved except the topics {@link #holds held}: the segment may send its other topics; the held ones are
         * tried again with {@link #resolveHeld}.
         */
        HELD
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
    /** A started resolution: of the held topics only, or complete (it closed the segment's sessions first). */
    private record Started(boolean heldOnly, List<ProducerSessions.Opening> awaited) {
    }

    /** Resolutions started, with the openings each waits for. */
    private final Map<Integer, Started> started = new HashMap<>();
    /** Per segment, the topics whose producer could not be opened, with why (warned once per reason). */
    private final Map<Integer, Map<String, String>> held = new HashMap<>();
    /** The rows {@link #resolveAll} read for several segments at once, taken by their resolutions in that call. */
    private final Map<Integer, List<OutboxStore.Sequenced>> prefetched = new HashMap<>();

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

    /** Forgets a started resolution and the held topics (the segment stopped, or its claim lapsed). */
    void abandon(int segment) {
        started.remove(segment);
        held.remove(segment);
    }

    /** Whether the segment has topics held (to be tried again with {@link #resolveHeld}). */
    boolean holdsTopics(int segment) {
        return held.containsKey(segment);
    }

    /** Whether the row (of {@code segment}) belongs to a held topic: it must not be taken into the working set. */
    boolean holds(int segment, OutboxEntry entry) {
        if (held.isEmpty()) {
            return false; // the common case: asked for every row read
        }
        Map<String, String> topicsHeld = held.get(segment);
        if (topicsHeld == null) {
            return false;
        }
        Optional<String> topic = topics.known(entry);
        if (topic.isEmpty()) { // a row without a stored topic, of a type not resolved yet (it may share the topic)
            try {
                topic = topics.of(entry);
            } catch (RuntimeException e) {
                return false; // no topic: the row fails when it is prepared, as any row without one
            }
        }
        return topic.map(topicsHeld::containsKey).orElse(false);
    }

    /** Starts or continues resolving the segment, every topic of it. */
    Result resolve(int segment) {
        return run(segment, false);
    }

    /**
     * Starts or continues resolving each of {@code segments}, every topic of each, handing each result to
     * {@code outcome} as soon as it is known. The segments that read their rows at this step read them in one
     * statement ({@link OutboxStore#fetchSequencedWithPartitions(Set)}): a start or takeover of many segments passes
     * over the pending rows once, not once per segment. The rows read are used in this call only.
     */
    void resolveAll(Collection<Integer> segments, BiConsumer<Integer, Result> outcome) {
        Set<Integer> reading = new TreeSet<>();
        for (Integer segment : segments) {
            Started run = started.get(segment);
            if (run == null || run.heldOnly() || !waitingForOpenings(run)) {
                reading.add(segment);
            }
        }
        if (reading.size() > 1) {
            prefetched.putAll(transactionManager.fetchInTransaction(
                    () -> store.fetchSequencedWithPartitions(reading)));
        }
        try {
            for (Integer segment : segments) {
                outcome.accept(segment, resolve(segment));
            }
        } finally {
            prefetched.clear();
        }
    }

    /** Starts or continues resolving the held topics of an active segment; its other sessions stay open. */
    Result resolveHeld(int segment) {
        return held.containsKey(segment) ? run(segment, true) : Result.RESOLVED;
    }

    private Result run(int segment, boolean heldOnly) {
        Started run = started.get(segment);
        if (run != null && run.heldOnly() != heldOnly) {
            run = null; // a complete resolution replaces one of the held topics: it must close the producers first
        }
        if (run == null) {
            if (!heldOnly) {
                sessions.closeSegment(segment); // nothing sent before can be stored once the new sessions are open
            }
            run = new Started(heldOnly, new ArrayList<>());
            started.put(segment, run);
        } else {
            if (waitingForOpenings(run)) {
                return Result.WAITING; // nothing new to learn yet: no database read per step while the broker is asked
            }
        }
        List<ProducerSessions.Opening> awaited = run.awaited();
        Map<String, String> before = held.getOrDefault(segment, Map.of());
        List<OutboxStore.Sequenced> read = heldOnly ? null : prefetched.remove(segment);
        List<OutboxStore.Sequenced> rows = read != null ? read
                : transactionManager.fetchInTransaction(() -> store.fetchSequencedWithPartitions(segment));
        Map<String, OutboxPublisher.Session> opened = new HashMap<>();
        Map<String, String> failed = new HashMap<>();
        List<OutboxStore.Sequenced> resolvable = new ArrayList<>();
        try {
            boolean waiting = false;
            awaited.clear();
            for (OutboxStore.Sequenced row : rows) {
                Optional<String> topic = topics.of(row.entry()); // a failure: resolved again later
                if (heldOnly && (topic.isEmpty() || !before.containsKey(topic.get()))) {
                    continue; // not held: resolved by the segment's complete resolution already
                }
                resolvable.add(row);
                if (topic.isEmpty() || opened.containsKey(topic.get()) || failed.containsKey(topic.get())) {
                    continue;
                }
                ProducerSessions.Opening opening = sessions.opening(topic.get(), segment);
                if (opening.underWay()) {
                    waiting = true; // asked again at a later step: this thread never waits for the broker
                    awaited.add(opening);
                    continue;
                }
                try {
                    opened.put(topic.get(), sessions.sessionFor(opening));
                } catch (IllegalStateException e) { // may pass: the topic is held, the others go on
                    failed.put(topic.get(), e.getMessage());
                }
            }
            if (waiting) {
                return Result.WAITING;
            }
        } catch (RuntimeException e) {
            started.remove(segment);
            if (!heldOnly) {
                sessions.closeSegment(segment);
            }
            logger.warn("Outbox relay: segment {} cannot be resolved, so none of its rows is sent: its rows' topic "
                                + "could not be found ({}); trying again later", segment, e.getMessage());
            return Result.FAILED;
        }
        started.remove(segment);
        if (!claims.isValid(segment)) {
            if (!heldOnly) {
                sessions.closeSegment(segment);
            }
            return Result.LAPSED;
        }
        resolvable.removeIf(row -> topics.of(row.entry()).map(failed::containsKey).orElse(false));
        record(segment, resolvable, opened);
        hold(segment, before, failed);
        return failed.isEmpty() ? Result.RESOLVED : Result.HELD;
    }

    /** Whether every producer opening the run waits for is still under way (and within the ack timeout). */
    private boolean waitingForOpenings(Started run) {
        long now = nanoTime.getAsLong();
        return !run.awaited().isEmpty() && run.awaited().stream().noneMatch(o -> o.future.isDone()
                || now - o.startedNanos - ackTimeoutNanos >= 0);
    }

    /** Remembers the topics that failed; warns for each new topic or reason. */
    private void hold(int segment, Map<String, String> before, Map<String, String> failed) {
        if (failed.isEmpty()) {
            held.remove(segment);
            return;
        }
        held.put(segment, failed);
        failed.forEach((topic, reason) -> {
            if (reason.equals(before.get(topic))) {
                logger.debug("Outbox relay: segment {}: topic {} still cannot be resolved ({})", segment, topic,
                             reason);
            } else {
                logger.warn("Outbox relay: segment {}: none of its rows of topic {} is sent until the broker says what "
                                    + "it stored of them, and asking it failed ({}); the segment's other topics are "
                                    + "sent; trying again later", segment, topic, reason);
            }
        });
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
