package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.store.OutboxStore.Failure;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static io.github.pulsaroutbox.store.jdbc.JdbcRows.MAX_ERROR_LENGTH;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.MAX_REASON_LENGTH;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.bindSet;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.truncate;

/**
 * The relay's writes to rows: broker sequence ids (assigned, resolved as stored, cleared), {@code SENT} recordings,
 * failures (retry later, park, discard), and the bound on lock waits of the current transaction. Set-based where a
 * statement takes many rows; nothing here commits.
 */
final class JdbcRelayWrites {

    private final JdbcAccess db;

    JdbcRelayWrites(JdbcAccess db) {
        this.db = db;
    }

    Set<String> assignSequences(Map<String, Long> sequences, Map<String, Integer> partitions) {
        if (sequences.isEmpty()) {
            return Set.of();
        }
        return db.withConnection(connection -> {
            OutboxSql statements = db.sql(connection);
            List<String> ids = List.copyOf(sequences.keySet());
            Integer onePartition = onePartition(ids, partitions);
            int[] counts;
            try (PreparedStatement update = connection.prepareStatement(statements.get(
                    onePartition != null ? "assignSequencesOnePartition" : "assignSequences"))) {
                for (int from = 0; from < ids.size(); from += OutboxSql.SET_SIZE) {
                    if (onePartition != null) { // (id, sequence) pairs, one partition, the ids
                        for (int i = 0; i < OutboxSql.SET_SIZE; i++) {
                            String id = ids.get(Math.min(from + i, ids.size() - 1));
                            update.setString(1 + 2 * i, id);
                            update.setLong(2 + 2 * i, sequences.get(id));
                        }
                        update.setInt(1 + 2 * OutboxSql.SET_SIZE, onePartition);
                        bindSet(update, 2 + 2 * OutboxSql.SET_SIZE, ids, from);
                        update.addBatch();
                        continue;
                    }
                    for (int i = 0; i < OutboxSql.SET_SIZE; i++) { // pairs; the last one repeated to fill the set
                        String id = ids.get(Math.min(from + i, ids.size() - 1));
                        update.setString(1 + 2 * i, id);
                        update.setLong(2 + 2 * i, sequences.get(id));
                        int partitionPair = 1 + 2 * OutboxSql.SET_SIZE + 2 * i;
                        update.setString(partitionPair, id);
                        Integer partition = partitions.get(id);
                        if (partition == null || partition < 0) {
                            update.setNull(partitionPair + 1, java.sql.Types.INTEGER);
                        } else {
                            update.setInt(partitionPair + 1, partition);
                        }
                    }
                    bindSet(update, 1 + 4 * OutboxSql.SET_SIZE, ids, from);
                    update.addBatch();
                }
                counts = update.executeBatch();
            }
            Set<String> notAssigned = new LinkedHashSet<>();
            for (int chunk = 0; chunk < counts.length; chunk++) {
                int from = chunk * OutboxSql.SET_SIZE;
                List<String> part = ids.subList(from, Math.min(from + OutboxSql.SET_SIZE, ids.size()));
                if (counts[chunk] != part.size()) { // which of them does not carry its id now
                    Set<String> missing = new LinkedHashSet<>(part);
                    try (PreparedStatement check = connection.prepareStatement(statements.get("sequencesOf"))) {
                        bindSet(check, 1, part, 0);
                        try (ResultSet rs = check.executeQuery()) {
                            while (rs.next()) {
                                long sequence = rs.getLong(2);
                                if (!rs.wasNull() && sequence == sequences.get(rs.getString(1))) {
                                    missing.remove(rs.getString(1));
                                }
                            }
                        }
                    }
                    notAssigned.addAll(missing);
                }
            }
            return notAssigned;
        });
    }

    /** The partition of every id when they all have the same (known) one, else {@code null}. */
    private static Integer onePartition(List<String> ids, Map<String, Integer> partitions) {
        Integer first = partitions.get(ids.get(0));
        if (first == null || first < 0) {
            return null;
        }
        for (String id : ids) {
            if (!first.equals(partitions.get(id))) {
                return null;
            }
        }
        return first;
    }

    void markStored(Map<String, Long> sequences, Instant sentAt) {
        updateBySequence("markStored", sequences, sentAt);
    }

    void clearSequences(Map<String, Long> sequences) {
        updateBySequence("clearSequence", sequences, null);
    }

    /** Runs a per-row statement whose last two parameters are id and sequence id, after an optional time. */
    private void updateBySequence(String statement, Map<String, Long> sequences, Instant first) {
        if (sequences.isEmpty()) {
            return;
        }
        db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            try (PreparedStatement update = connection.prepareStatement(db.sql(connection).get(statement))) {
                for (Map.Entry<String, Long> row : sequences.entrySet()) {
                    int index = 1;
                    if (first != null) {
                        update.setObject(index++, times.bind(first));
                    }
                    update.setString(index++, row.getKey());
                    update.setLong(index, row.getValue());
                    update.addBatch();
                }
                update.executeBatch();
            }
            return null;
        });
    }

    Set<String> markSent(Collection<String> ids, Instant sentAt) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        return db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            OutboxSql statements = db.sql(connection);
            Object at = times.bind(sentAt);
            List<String> all = List.copyOf(new LinkedHashSet<>(ids));
            int[] counts;
            try (PreparedStatement update = connection.prepareStatement(statements.get("markSent"))) {
                for (int from = 0; from < all.size(); from += OutboxSql.SET_SIZE) {
                    update.setObject(1, at);
                    bindSet(update, 2, all, from);
                    update.addBatch();
                }
                counts = update.executeBatch();
            }
            Set<String> notRecorded = new LinkedHashSet<>();
            for (int chunk = 0; chunk < counts.length; chunk++) {
                int from = chunk * OutboxSql.SET_SIZE;
                List<String> ids0 = all.subList(from, Math.min(from + OutboxSql.SET_SIZE, all.size()));
                if (counts[chunk] != ids0.size()) { // SUCCESS_NO_INFO or fewer: find the rows it did not change
                    notRecorded.addAll(notRecordedOf(connection, statements, ids0, at));
                }
            }
            return notRecorded;
        });
    }

    /** Of {@code ids}, those not marked SENT at {@code at} (the update left them, or they are gone). */
    private static Set<String> notRecordedOf(Connection connection, OutboxSql statements, List<String> ids,
                                             Object at) throws SQLException {
        Set<String> missing = new LinkedHashSet<>(ids);
        try (PreparedStatement check = connection.prepareStatement(statements.get("sentAt"))) {
            bindSet(check, 1, ids, 0);
            check.setObject(OutboxSql.SET_SIZE + 1, at);
            try (ResultSet rs = check.executeQuery()) {
                while (rs.next()) {
                    missing.remove(rs.getString(1));
                }
            }
        }
        return missing;
    }

    void recordFailures(Collection<Failure> failures) {
        if (failures.isEmpty()) {
            return;
        }
        db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            OutboxSql statements = db.sql(connection);
            try (PreparedStatement retry = connection.prepareStatement(statements.get("retryLater"));
                 PreparedStatement park = connection.prepareStatement(statements.get("park"));
                 PreparedStatement discard = connection.prepareStatement(statements.get("discardFailed"))) {
                int retries = 0;
                int parks = 0;
                int discards = 0;
                for (Failure failure : failures) {
                    String kind = failure.kind().name();
                    String error = truncate(failure.error(), MAX_ERROR_LENGTH);
                    switch (failure.outcome()) {
                        case RETRY -> {
                            retry.setObject(1, times.bind(failure.nextAttemptAt()));
                            retry.setString(2, kind);
                            retry.setString(3, error);
                            retry.setBoolean(4, failure.kind().mayHaveBeenStored());
                            retry.setString(5, failure.id());
                            retry.addBatch();
                            retries++;
                        }
                        case PARK -> {
                            park.setObject(1, times.bind(failure.at()));
                            park.setBoolean(2, failure.kind().mayHaveBeenStored()); // resolved later, see relay
                            park.setString(3, kind);
                            park.setString(4, error);
                            park.setString(5, failure.id());
                            park.addBatch();
                            parks++;
                        }
                        case DISCARD -> {
                            discard.setString(1, kind);
                            discard.setString(2, error);
                            discard.setObject(3, times.bind(failure.at()));
                            discard.setString(4, truncate(error, MAX_REASON_LENGTH));
                            discard.setString(5, failure.id());
                            discard.addBatch();
                            discards++;
                        }
                    }
                }
                if (retries > 0) {
                    retry.executeBatch();
                }
                if (parks > 0) {
                    park.executeBatch();
                }
                if (discards > 0) {
                    discard.executeBatch();
                }
            }
            return null;
        });
    }

    /**
     * Bounds the current transaction's lock waits and idle time: PostgreSQL's {@code lock_timeout} and
     * {@code idle_in_transaction_session_timeout} for this transaction; MariaDB's {@code innodb_lock_wait_timeout} and
     * {@code idle_transaction_timeout} (and its write and read-only variants, which take precedence where set; MySQL:
     * the lock wait only) for the session, in whole seconds (rounded up), its own values kept for
     * {@link #restoreWaits}. Outside a transaction (auto-commit) it changes nothing.
     */
    void limitWaits(Duration lockWait, Duration idle) {
        db.withConnection(connection -> {
            if (connection.getAutoCommit()) {
                return null; // no transaction to bound: a session setting would outlive the call
            }
            OutboxSql statements = db.sql(connection);
            if (db.database(connection) == OutboxDatabase.MARIADB) {
                boolean mariaDb = isMariaDbServer(connection);
                try (PreparedStatement limit = connection.prepareStatement(
                        statements.get(mariaDb ? "limitWaits" : "limitLockWait"))) {
                    limit.setLong(1, wholeSeconds(lockWait));
                    if (mariaDb) { // idle_transaction_timeout and its write and read-only variants
                        for (int parameter = 2; parameter <= 4; parameter++) {
                            limit.setLong(parameter, wholeSeconds(idle));
                        }
                    }
                    limit.execute();
                }
                return null;
            }
            Optional<String> statement = statements.find("limitWaits");
            if (statement.isPresent()) {
                try (PreparedStatement limit = connection.prepareStatement(statement.get())) {
                    limit.setString(1, Math.max(1, lockWait.toMillis()) + "ms");
                    limit.setString(2, Math.max(1, idle.toMillis()) + "ms");
                    limit.executeQuery().close();
                }
            }
            return null;
        });
    }

    /**
     * Gives the session back the values {@link #limitWaits} replaced (MariaDB, MySQL); nothing to do where they ended
     * with the transaction (PostgreSQL) or were never set (H2, auto-commit).
     */
    void restoreWaits() {
        db.withConnection(connection -> {
            if (connection.getAutoCommit() || db.database(connection) != OutboxDatabase.MARIADB) {
                return null;
            }
            String name = isMariaDbServer(connection) ? "restoreWaits" : "restoreLockWait";
            try (PreparedStatement restore = connection.prepareStatement(db.sql(connection).get(name))) {
                restore.execute();
            }
            return null;
        });
    }

    /** Whether the server is MariaDB (both drivers report its version with "MariaDB" in it), not MySQL. */
    private static boolean isMariaDbServer(Connection connection) throws SQLException {
        String version = connection.getMetaData().getDatabaseProductVersion();
        return version != null && version.toLowerCase(java.util.Locale.ROOT).contains("mariadb");
    }

    /** A duration in whole seconds, rounded up, at least one. */
    static long wholeSeconds(Duration duration) {
        return Math.max(1, (duration.toMillis() + 999) / 1000);
    }
}
