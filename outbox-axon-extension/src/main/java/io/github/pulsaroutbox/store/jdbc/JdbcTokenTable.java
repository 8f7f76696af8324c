package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.store.OutboxNodes.Claim;
import io.github.pulsaroutbox.store.TokenTable;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The relay's statements on Axon's token table: confirming several claims in one round trip under shared row locks
 * (where the database has them), extending several claims in one round trip (a batch of single-row updates in
 * ascending segment order), and marking and reading one claim.
 * The statements are the same on every supported database but for the shared lock's clause (statement
 * {@code claimShareLock} of the database's SQL); the names in them come from a {@link TokenTable}, whose constructor
 * admits plain identifiers only, and every value is bound.
 */
final class JdbcTokenTable {

    private final JdbcAccess db;

    JdbcTokenTable(JdbcAccess db) {
        this.db = db;
    }

    int extendClaims(TokenTable table, String processorName, String owner, Collection<Integer> segments,
                     String timestamp) {
        TreeSet<Integer> ascending = new TreeSet<>(segments);
        if (ascending.isEmpty()) {
            return 0;
        }
        String sql = "UPDATE " + table.table() + " SET " + table.timestampColumn() + " = ? WHERE "
                + table.processorNameColumn() + " = ? AND " + table.segmentColumn() + " = ? AND "
                + table.ownerColumn() + " = ?";
        return db.withConnection(connection -> {
            try (PreparedStatement update = connection.prepareStatement(sql)) {
                for (Integer segment : ascending) { // rows locked in ascending order, as the token store would
                    update.setString(1, timestamp);
                    update.setString(2, processorName);
                    update.setInt(3, segment);
                    update.setString(4, owner);
                    update.addBatch();
                }
                int extended = 0;
                for (int count : update.executeBatch()) {
                    extended += count == 1 ? 1 : 0; // a missing, foreign or duplicated token, or no count: not one
                }
                return extended;
            }
        });
    }

    /**
     * Locks, shared, the token rows of {@code segments} that {@code owner} holds, in ascending segment order, and
     * returns how many of the segments have exactly one such row; -1 where the database has no shared row locks
     * (H2).
     */
    int holdClaims(TokenTable table, String processorName, String owner, Collection<Integer> segments) {
        TreeSet<Integer> ascending = new TreeSet<>(segments);
        if (ascending.isEmpty()) {
            return 0;
        }
        return db.withConnection(connection -> {
            Optional<String> shareLock = db.sql(connection).find("claimShareLock");
            if (shareLock.isEmpty()) {
                return -1;
            }
            String sql = "SELECT " + table.segmentColumn() + " FROM " + table.table() + " WHERE "
                    + table.processorNameColumn() + " = ? AND " + table.ownerColumn() + " = ? AND "
                    + table.segmentColumn() + " IN (" + String.join(", ", Collections.nCopies(ascending.size(), "?"))
                    + ") ORDER BY " + table.segmentColumn() + " " + shareLock.get();
            try (PreparedStatement select = connection.prepareStatement(sql)) {
                select.setString(1, processorName);
                select.setString(2, owner);
                int parameter = 3;
                for (Integer segment : ascending) {
                    select.setInt(parameter++, segment);
                }
                Map<Integer, Integer> rows = new HashMap<>();
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        rows.merge(rs.getInt(1), 1, Integer::sum);
                    }
                }
                // a segment with two rows of this owner's is not one claim: it does not count
                return (int) rows.values().stream().filter(count -> count == 1).count();
            }
        });
    }

    int markClaim(TokenTable table, String processorName, int segment, String timestamp) {
        String sql = "UPDATE " + table.table() + " SET " + table.timestampColumn() + " = ? WHERE "
                + table.processorNameColumn() + " = ? AND " + table.segmentColumn() + " = ?";
        return db.withConnection(connection -> {
            try (PreparedStatement update = connection.prepareStatement(sql)) {
                update.setString(1, timestamp);
                update.setString(2, processorName);
                update.setInt(3, segment);
                return update.executeUpdate();
            }
        });
    }

    Optional<Claim> claimOf(TokenTable table, String processorName, int segment) {
        String sql = "SELECT " + table.ownerColumn() + ", " + table.timestampColumn() + " FROM " + table.table()
                + " WHERE " + table.processorNameColumn() + " = ? AND " + table.segmentColumn() + " = ?";
        return db.withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql)) {
                select.setString(1, processorName);
                select.setInt(2, segment);
                try (ResultSet rs = select.executeQuery()) {
                    return rs.next() ? Optional.of(new Claim(rs.getString(1), rs.getString(2))) : Optional.empty();
                }
            }
        });
    }
}
