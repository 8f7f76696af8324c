package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxRow;
import io.github.pulsaroutbox.OutboxStatus;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static io.github.pulsaroutbox.store.jdbc.JdbcRows.bindSegments;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.bindSet;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.readEntry;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.readRow;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.sequenceOf;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.singleLong;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.truncate;

/**
 * Reading and binding outbox rows: columns to entries and rows (instants through the database's {@link TimeColumns}),
 * sets of ids.
 */
final class JdbcRows {

    /** The longest error text stored ({@code last_error}). */
    static final int MAX_ERROR_LENGTH = 4000;
    /** The longest operator reason stored ({@code action_reason}). */
    static final int MAX_REASON_LENGTH = 1000;

    private JdbcRows() {
    }

    /** Binds {@link OutboxSql#SEGMENT_SET_SIZE} segment numbers, repeating one to fill the set; the next index. */
    static int bindSegments(PreparedStatement statement, int firstIndex, Set<Integer> segments)
            throws SQLException {
        List<Integer> list = List.copyOf(segments);
        if (list.size() > OutboxSql.SEGMENT_SET_SIZE) {
            throw new IllegalArgumentException("At most " + OutboxSql.SEGMENT_SET_SIZE + " segments");
        }
        for (int i = 0; i < OutboxSql.SEGMENT_SET_SIZE; i++) {
            statement.setInt(firstIndex + i, list.get(Math.min(i, list.size() - 1)));
        }
        return firstIndex + OutboxSql.SEGMENT_SET_SIZE;
    }

    /** Binds {@link OutboxSql#SET_SIZE} ids from {@code from} on, repeating the last one to fill the set. */
    static void bindSet(PreparedStatement statement, int firstIndex, List<String> ids, int from)
            throws SQLException {
        for (int i = 0; i < OutboxSql.SET_SIZE; i++) {
            statement.setString(firstIndex + i, ids.get(Math.min(from + i, ids.size() - 1)));
        }
    }

    static long singleLong(PreparedStatement select) throws SQLException {
        try (ResultSet rs = select.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static OutboxEntry readEntry(ResultSet rs, TimeColumns times) throws SQLException {
        String kind = rs.getString("failure_kind");
        return new OutboxEntry(rs.getString("id"),
                               rs.getLong("position"),
                               times.read(rs, "timestamp"),
                               rs.getString("event_type"),
                               rs.getString("aggregate_type"),
                               rs.getString("aggregate_id"),
                               rs.getLong("aggregate_sequence"),
                               rs.getString("payload"),
                               rs.getString("metadata"),
                               rs.getString("version"),
                               rs.getString("trace_parent"),
                               OutboxStatus.valueOf(rs.getString("status")),
                               rs.getInt("attempts"),
                               kind == null ? null : FailureKind.valueOf(kind),
                               rs.getString("last_error"),
                               sequenceOf(rs),
                               rs.getString("topic"),
                               rs.getInt("segment"));
    }

    static long sequenceOf(ResultSet rs) throws SQLException {
        long sequence = rs.getLong("broker_sequence");
        return rs.wasNull() ? OutboxEntry.NO_SEQUENCE : sequence;
    }

    static OutboxRow readRow(ResultSet rs, TimeColumns times) throws SQLException {
        return new OutboxRow(readEntry(rs, times),
                             times.read(rs, "next_attempt_at"),
                             times.read(rs, "parked_at"),
                             times.read(rs, "sent_at"),
                             rs.getString("action"),
                             rs.getString("action_by"),
                             times.read(rs, "action_at"),
                             rs.getString("action_reason"));
    }

    static String truncate(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        return text.substring(0, max);
    }
}
