package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Rows the broker acknowledged that the store then did not record SENT ({@code NOT_RECORDED}), kept for the life of
 * the relay: it never sends them again. Each is parked once it was read as pending {@value #SIGHTINGS} more times;
 * once parked, only an operator's retry (which resets its attempts) lets it be sent again. Thread-safe.
 */
final class NotRecordedRows {

    /** How often such a row is read as pending again before it is parked. */
    static final int SIGHTINGS = 3;
    /** Marks a row whose parking was recorded. */
    private static final int PARKED = -1;

    /** What the relay does with a row it read. */
    enum Sighting {
        /** Not acknowledged before: relay it as usual. */
        SEND,
        /** Acknowledged before: skip it. */
        SKIP,
        /** Acknowledged before and read as pending {@value #SIGHTINGS} times since: park it. */
        PARK
    }

    private final Map<String, Integer> rows = new ConcurrentHashMap<>();

    /** The broker acknowledged these rows, and recording them SENT changed nothing. */
    void acknowledgedButNotRecorded(Iterable<String> ids) {
        ids.forEach(id -> rows.putIfAbsent(id, 0));
    }

    /** The row's parking was recorded. */
    void parked(String id) {
        rows.put(id, PARKED);
    }

    /** Counts a reading of the row as pending, and says what to do with it. */
    Sighting sighted(OutboxEntry entry) {
        Integer mark = rows.get(entry.id());
        if (mark == null) {
            return Sighting.SEND;
        }
        if (mark == PARKED && entry.attempts() == 0) {
            rows.remove(entry.id()); // parked, then retried by an operator: send it as asked
            return Sighting.SEND;
        }
        Integer sightings = rows.computeIfPresent(entry.id(), (id, n) -> n == PARKED ? PARKED : n + 1);
        if (sightings == null) {
            return Sighting.SEND;
        }
        return sightings == SIGHTINGS ? Sighting.PARK : Sighting.SKIP;
    }

    /** How many rows are known acknowledged and not recorded. */
    int size() {
        return rows.size();
    }
}
