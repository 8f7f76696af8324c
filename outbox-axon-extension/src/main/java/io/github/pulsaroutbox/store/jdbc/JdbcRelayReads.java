package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore.Sequenced;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import static io.github.pulsaroutbox.store.jdbc.JdbcRows.bindSegments;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.readEntry;

/**
 * The relay's reads: due pending rows (complete scans in aggregate sequence order, continuations above a position),
 * a segment's rows that carry broker sequence ids, and when the next retry is due.
 */
final class JdbcRelayReads {

    private final JdbcAccess db;

    JdbcRelayReads(JdbcAccess db) {
        this.db = db;
    }

    List<OutboxEntry> fetchPending(int limit, Instant now, Set<Integer> segments, long abovePosition) {
        if (segments.isEmpty()) {
            return List.of();
        }
        return db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            Object at = times.bind(now);
            List<OutboxEntry> rows = new ArrayList<>(limit);
            List<Long> lowerMax = new ArrayList<>(limit);
            int read = 0;
            try (PreparedStatement select = connection.prepareStatement(db.sql(connection).get("fetchPending"))) {
                select.setObject(1, at);
                int next = bindSegments(select, 2, segments);
                select.setObject(next, at);
                select.setLong(next + 1, abovePosition);
                select.setInt(next + 2, limit);
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        read++;
                        OutboxEntry entry = readEntry(rs, times);
                        long min = rs.getLong("lower_min");
                        if (!rs.wasNull() && min <= abovePosition) {
                            continue; // an earlier row of its aggregate lies below the scan: it goes first
                        }
                        long max = rs.getLong("lower_max");
                        rows.add(entry);
                        lowerMax.add(rs.wasNull() ? null : max);
                    }
                }
            }
            long cutoff = read < limit ? Long.MAX_VALUE
                                       : rows.stream().mapToLong(OutboxEntry::position).max().orElse(0);
            return inSequenceOrder(rows, lowerMax, cutoff, connection);
        });
    }

    /**
     * Per aggregate, its rows in sequence order in the places its rows held in the scan, as long as every pending row
     * with a lower sequence was read (its position is within the scan's {@code cutoff}); an aggregate none of whose
     * rows qualifies gets its head row read on its own.
     */
    private List<OutboxEntry> inSequenceOrder(List<OutboxEntry> rows, List<Long> lowerMax, long cutoff,
                                              Connection connection) throws SQLException {
        boolean ordered = true;
        for (int i = 0; i < rows.size() && ordered; i++) {
            Long max = lowerMax.get(i);
            ordered = max == null || max < rows.get(i).position();
        }
        if (ordered) {
            return rows; // the usual case: positions follow sequences
        }
        Map<String, List<Integer>> slots = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            slots.computeIfAbsent(rows.get(i).aggregateKey(), k -> new ArrayList<>()).add(i);
        }
        OutboxEntry[] placed = new OutboxEntry[rows.size()];
        for (List<Integer> aggregate : slots.values()) {
            List<Integer> bySequence = new ArrayList<>(aggregate);
            bySequence.sort(Comparator.comparingLong(i -> rows.get(i).aggregateSequence()));
            int taken = 0;
            for (int i : bySequence) {
                Long max = lowerMax.get(i);
                if (max != null && max > cutoff) {
                    break; // a row with a lower sequence lies beyond the scan: this and later rows wait for it
                }
                placed[aggregate.get(taken++)] = rows.get(i);
            }
            if (taken == 0) {
                OutboxEntry any = rows.get(aggregate.get(0));
                headOf(any.aggregateType(), any.aggregateId(), connection)
                        .ifPresent(head -> placed[aggregate.get(0)] = head);
            }
        }
        List<OutboxEntry> result = new ArrayList<>(rows.size());
        for (OutboxEntry entry : placed) {
            if (entry != null) {
                result.add(entry);
            }
        }
        return result;
    }

    private Optional<OutboxEntry> headOf(String aggregateType, String aggregateId, Connection connection)
            throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(db.sql(connection).get("fetchHead"))) {
            select.setString(1, aggregateType);
            select.setString(2, aggregateId);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(readEntry(rs, db.times(connection))) : Optional.empty();
            }
        }
    }

    List<OutboxEntry> fetchPendingAfter(long afterPosition, int limit, Instant now, Set<Integer> segments) {
        if (segments.isEmpty()) {
            return List.of();
        }
        return db.readEntries("fetchPendingAfter", limit, (select, times) -> {
            select.setLong(1, afterPosition);
            select.setObject(2, times.bind(now));
            int next = bindSegments(select, 3, segments);
            select.setInt(next, limit);
        });
    }

    /** Per segment of {@code segments} (at most {@link OutboxSql#SEGMENT_SET_SIZE}), its rows with sequence ids. */
    Map<Integer, List<Sequenced>> fetchSequencedWithPartitions(Set<Integer> segments) {
        Map<Integer, List<Sequenced>> bySegment = new TreeMap<>();
        segments.forEach(segment -> bySegment.put(segment, new ArrayList<>()));
        if (segments.isEmpty()) {
            return bySegment;
        }
        return db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            String statement = db.sql(connection).get("fetchSequenced");
            try (PreparedStatement select = connection.prepareStatement(statement)) {
                select.setFetchSize(16);
                int parameter = 1;
                while (parameter <= OutboxSql.parameterCount(statement)) { // a set per branch where a database reads
                    parameter = bindSegments(select, parameter, segments); // two indexes
                }
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        int partition = rs.getInt("broker_partition");
                        if (rs.wasNull()) {
                            partition = Sequenced.NO_PARTITION;
                        }
                        bySegment.get(rs.getInt("segment")).add(new Sequenced(readEntry(rs, times), partition));
                    }
                }
                return bySegment;
            }
        });
    }

    Optional<Instant> nextRetryAt(Set<Integer> segments) {
        if (segments.isEmpty()) {
            return Optional.empty();
        }
        return db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            try (PreparedStatement select = connection.prepareStatement(db.sql(connection).get("nextRetryAt"))) {
                bindSegments(select, 1, segments);
                try (ResultSet rs = select.executeQuery()) {
                    return rs.next() ? Optional.ofNullable(times.read(rs, 1)) : Optional.empty();
                }
            }
        });
    }
}
