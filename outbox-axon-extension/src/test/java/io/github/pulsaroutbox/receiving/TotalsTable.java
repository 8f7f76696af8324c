package io.github.pulsaroutbox.receiving;

import org.axonframework.common.jdbc.ConnectionProvider;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The receiving tests' projection in H2: per account the total of its deposits and the last sequence applied, written
 * on the connection of the handler's transaction; an event that is not its account's next is noted.
 */
final class TotalsTable {

    final List<String> outOfOrder = new CopyOnWriteArrayList<>();
    private final DataSource dataSource;
    private final ConnectionProvider connections;

    TotalsTable(DataSource dataSource, ConnectionProvider connections) throws SQLException {
        this.dataSource = dataSource;
        this.connections = connections;
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE totals (account VARCHAR(64) PRIMARY KEY, total BIGINT NOT NULL, "
                              + "last_sequence BIGINT NOT NULL)");
        }
    }

    /** Adds the deposit in the current transaction, noting it if it is not its account's next event. */
    void apply(Deposits.Deposited deposited, long sequence) throws SQLException {
        Connection c = connections.getConnection();
        long last = -1;
        try (PreparedStatement select = c.prepareStatement("SELECT last_sequence FROM totals WHERE account = ?")) {
            select.setString(1, deposited.account());
            try (ResultSet rs = select.executeQuery()) {
                if (rs.next()) {
                    last = rs.getLong(1);
                }
            }
        }
        if (sequence != last + 1) {
            outOfOrder.add(deposited.account() + " " + sequence + " after " + last);
        }
        try (PreparedStatement upsert = c.prepareStatement(
                "MERGE INTO totals t USING (VALUES (CAST(? AS VARCHAR(64)), CAST(? AS BIGINT), CAST(? AS BIGINT))) "
                        + "s (a, n, q) ON t.account = s.a WHEN MATCHED THEN UPDATE SET total = t.total + s.n, "
                        + "last_sequence = s.q WHEN NOT MATCHED THEN INSERT VALUES (s.a, s.n, s.q)")) {
            upsert.setString(1, deposited.account());
            upsert.setLong(2, deposited.amount());
            upsert.setLong(3, sequence);
            upsert.executeUpdate();
        }
    }

    /** The committed totals per account. */
    Map<String, Long> totals() throws SQLException {
        Map<String, Long> totals = new HashMap<>();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT account, total FROM totals")) {
            while (rs.next()) {
                totals.put(rs.getString(1), rs.getLong(2));
            }
        }
        return totals;
    }
}
