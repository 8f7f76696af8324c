package io.github.pulsaroutbox.relay;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lets a prepared row through only once the producer session of its topic (and segment) is open, never blocking the
 * relay thread: while the session opens, the row waits here (in flight, so its aggregate waits too; out of the
 * in-flight count, so a topic whose lookup hangs does not use up the working set of the topics that flow) and is let
 * through by {@link #admit} once it is open. When the session cannot be opened, the row fails with the transport's
 * kind of failure before it got a sequence id (an unknown topic parks it; an unreachable broker, or a producer name
 * another node still holds, is retried); the failure is remembered for the session until the opening may be tried
 * again, so that the session's other rows fail at once instead of each waiting for the broker. Rows waiting for the
 * same session keep their order. At most {@code maxWaiting} rows wait per session: {@link #crowded} tells the intake to
 * leave further rows of that session in the database until the opening settles, so that a topic whose lookup hangs
 * holds a bounded number of rows in memory. Owns the rows waiting, per session.
 */
final class SessionGate {

    /** What the gate needs of the relay. */
    interface Rows {

        /** The row failed (it is out of flight already). */
        void fail(RelayRow row, Attempt attempt);

        /** Whether rows of the segment may be sent now. */
        boolean mayStillSend(int segment);
    }

    private final ProducerSessions sessions;
    private final AggregateQueues queues;
    private final SegmentClaims claims;
    private final boolean sequenced;
    private final Rows rows;
    private final int maxWaiting;
    /** Rows (in flight, not yet sent, no sequence id yet) waiting for their session to open, by session. */
    private final Map<String, List<RelayRow>> waiting = new LinkedHashMap<>();

    SessionGate(ProducerSessions sessions, AggregateQueues queues, SegmentClaims claims, boolean sequenced,
                Rows rows, int maxWaiting) {
        this.sessions = sessions;
        this.queues = queues;
        this.claims = claims;
        this.sequenced = sequenced;
        this.rows = rows;
        this.maxWaiting = maxWaiting;
    }

    /** Whether any row waits for a session to open. */
    boolean anyWaiting() {
        return !waiting.isEmpty();
    }

    /** Whether as many rows as allowed wait for the session of this topic and segment already. */
    boolean crowded(String topic, int segment) {
        if (waiting.isEmpty()) {
            return false; // the common case: asked for every row read
        }
        List<RelayRow> waitingRows = waiting.get(sessions.key(topic, segment));
        return waitingRows != null && waitingRows.size() >= maxWaiting;
    }

    /**
     * Whether the row's session is open, starting to open it if needed; {@code false} when the row waits for it (it
     * comes back through {@link #admit}) or failed.
     */
    boolean open(RelayRow row) {
        String session = sessions.key(row.topic, row.segment);
        if (sessions.isOpen(session)) {
            return true;
        }
        List<RelayRow> alreadyWaiting = waiting.get(session);
        if (alreadyWaiting != null) { // behind the rows already waiting for it, in order
            startWaiting(row, alreadyWaiting);
            return false;
        }
        ProducerSessions.Opening opening = sessions.opening(row.topic, row.segment);
        if (opening.failure != null) {
            opening.reported = true;
            queues.leaveInFlight(row);
            rows.fail(row, opening.failure);
            return false;
        }
        if (!opening.future.isDone()) {
            startWaiting(row, waiting.computeIfAbsent(session, k -> new ArrayList<>()));
            return false;
        }
        if (sequenced) {
            claims.raise(row.segment, opening.future.join().highestStored());
        }
        sessions.opened(session, row.topic, opening.future.join());
        return true;
    }

    /**
     * The rows whose session opened (or whose segment stopped meanwhile: they are retracted when sent on), in order;
     * rows whose session could not be opened fail with that failure (once: the next row asks again after the
     * backoff); the others keep waiting.
     */
    List<RelayRow> admit() {
        if (waiting.isEmpty()) {
            return List.of();
        }
        List<RelayRow> admitted = new ArrayList<>();
        for (Iterator<Map.Entry<String, List<RelayRow>>> it = waiting.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, List<RelayRow>> session = it.next();
            ProducerSessions.Opening opening = sessions.settled(session.getKey());
            if (opening != null && opening.underWay()) {
                continue;
            }
            it.remove();
            for (RelayRow row : session.getValue()) {
                queues.stopWaiting(row);
                if (opening != null && opening.failure != null && rows.mayStillSend(row.segment)) {
                    opening.reported = true;
                    queues.leaveInFlight(row);
                    rows.fail(row, opening.failure);
                } else {
                    admitted.add(row);
                }
            }
        }
        return admitted;
    }

    /** Takes every waiting row out of flight and returns them: they are not sent after all (the relay stops). */
    List<RelayRow> dropAll() {
        List<RelayRow> dropped = new ArrayList<>();
        waiting.values().forEach(session -> session.forEach(row -> {
            queues.stopWaiting(row);
            queues.leaveInFlight(row);
            dropped.add(row);
        }));
        waiting.clear();
        return dropped;
    }

    /** The earliest of {@code deadline} and the ack deadlines of the openings rows wait for. */
    long earliestDeadline(long deadline) {
        return sessions.earliestDeadline(waiting.keySet(), deadline);
    }

    private void startWaiting(RelayRow row, List<RelayRow> rowsOfSession) {
        rowsOfSession.add(row);
        queues.startWaiting(row);
    }
}
