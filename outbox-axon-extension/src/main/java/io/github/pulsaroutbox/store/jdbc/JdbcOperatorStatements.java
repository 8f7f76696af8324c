package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.OutboxRow;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.store.OutboxMaintenance.Action;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static io.github.pulsaroutbox.store.jdbc.JdbcRows.MAX_REASON_LENGTH;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.readRow;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.singleLong;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.truncate;

/**
 * What operators and statistics read and do: rows by id, parked rows and counts, retries and discards (each recorded
 * with who, when and why), the backlog age, and retention's bounded batches.
 */
final class JdbcOperatorStatements {

    private final JdbcAccess db;

    JdbcOperatorStatements(JdbcAccess db) {
        this.db = db;
    }

    Optional<OutboxRow> find(String id) {
        return db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            try (PreparedStatement select = connection.prepareStatement(db.sql(connection).get("find"))) {
                select.setString(1, id);
                try (ResultSet rs = select.executeQuery()) {
                    return rs.next() ? Optional.of(readRow(rs, times)) : Optional.empty();
                }
            }
        });
    }

    List<OutboxRow> findParked(String aggregateType, String aggregateId, int offset, int limit) {
        return db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            try (PreparedStatement select = connection.prepareStatement(db.sql(connection).get("findParked"))) {
                int next = bindFilter(select, aggregateType, aggregateId);
                select.setInt(next, offset);
                select.setInt(next + 1, limit);
                try (ResultSet rs = select.executeQuery()) {
                    List<OutboxRow> rows = new ArrayList<>();
                    while (rs.next()) {
                        rows.add(readRow(rs, times));
                    }
                    return rows;
                }
            }
        });
    }

    long countParked(String aggregateType, String aggregateId) {
        return db.withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(db.sql(connection).get("countParked"))) {
                bindFilter(select, aggregateType, aggregateId);
                return singleLong(select);
            }
        });
    }

    long countPending(String aggregateType, String aggregateId) {
        return db.withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(db.sql(connection).get("countWaiting"))) {
                select.setString(1, aggregateType);
                select.setString(2, aggregateId);
                return singleLong(select);
            }
        });
    }

    int retryParked(String id, Action action) {
        return update("retryParked", action, id);
    }

    int retryParkedOfAggregate(String aggregateType, String aggregateId, Action action) {
        return update("retryParkedOfAggregate", action, aggregateType, aggregateId);
    }

    int retryAllParked(Action action) {
        return update("retryAllParked", action);
    }

    int discardParked(String id, Action action) {
        return update("discardParked", action, id);
    }

    long count(OutboxStatus status) {
        return db.withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(db.sql(connection).get("countByStatus"))) {
                select.setString(1, status.name());
                return singleLong(select);
            }
        });
    }

    Optional<Instant> oldestPending() {
        return db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            try (PreparedStatement select = connection.prepareStatement(db.sql(connection).get("oldestPending"));
                 ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.ofNullable(times.read(rs, 1)) : Optional.empty();
            }
        });
    }

    int purgeSent(Instant cutoff, int batchSize, boolean archive) {
        return db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            OutboxSql statements = db.sql(connection);
            Object before = times.bind(cutoff);
            long upperBound;
            try (PreparedStatement bound = connection.prepareStatement(statements.get("retentionUpperBound"))) {
                bound.setObject(1, before);
                bound.setInt(2, batchSize);
                try (ResultSet rs = bound.executeQuery()) {
                    rs.next();
                    upperBound = rs.getLong(1);
                    if (rs.wasNull()) {
                        return 0;
                    }
                }
            }
            if (archive) {
                try (PreparedStatement copy = connection.prepareStatement(statements.get("retentionArchive"))) {
                    copy.setObject(1, before);
                    copy.setLong(2, upperBound);
                    copy.executeUpdate();
                }
            }
            try (PreparedStatement delete = connection.prepareStatement(statements.get("retentionDelete"))) {
                delete.setObject(1, before);
                delete.setLong(2, upperBound);
                return delete.executeUpdate();
            }
        });
    }

    private int update(String statement, Action action, String... keys) {
        return db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            try (PreparedStatement update = connection.prepareStatement(db.sql(connection).get(statement))) {
                update.setString(1, truncate(action.actor(), 255));
                update.setObject(2, times.bind(action.at()));
                update.setString(3, truncate(action.reason(), MAX_REASON_LENGTH));
                for (int i = 0; i < keys.length; i++) {
                    update.setString(4 + i, keys[i]);
                }
                return update.executeUpdate();
            }
        });
    }

    private static int bindFilter(PreparedStatement statement, String aggregateType, String aggregateId)
            throws SQLException {
        statement.setString(1, aggregateType);
        statement.setString(2, aggregateType);
        statement.setString(3, aggregateId);
        statement.setString(4, aggregateId);
        return 5;
    }
}
