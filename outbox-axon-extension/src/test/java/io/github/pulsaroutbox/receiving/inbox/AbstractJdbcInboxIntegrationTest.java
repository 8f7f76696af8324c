package io.github.pulsaroutbox.receiving.inbox;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The JDBC inbox's contract on a real database, one transaction per connection (H2, PostgreSQL, MariaDB). */
abstract class AbstractJdbcInboxIntegrationTest {

    final String table = "inbox_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);

    abstract DataSource dataSource();

    /** An inbox whose every call runs in {@code transaction} (autocommit off), which the test ends. */
    JdbcInbox inboxOn(Connection transaction) {
        Connection shared = (Connection) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[]{Connection.class}, (proxy, method, args) ->
                        method.getName().equals("close") ? null : method.invoke(transaction, args));
        return JdbcInbox.builder().connectionProvider(() -> shared).table(table).build();
    }

    Connection transaction() throws Exception {
        Connection connection = dataSource().getConnection();
        connection.setAutoCommit(false);
        return connection;
    }

    @AfterEach
    void dropTable() throws Exception {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + table);
        }
    }

    void createSchema() throws Exception {
        try (Connection c = transaction()) {
            inboxOn(c).createSchema();
            inboxOn(c).createSchema(); // idempotent
            c.commit();
        }
    }

    @Test
    void anEventIsHandledFirstOncePerProcessingGroupAmongCommittedTransactions() throws Exception {
        createSchema();
        Instant now = Instant.now();
        try (Connection c = transaction()) {
            assertThat(inboxOn(c).firstHandling("totals", "e-1", now)).isTrue();
            c.commit();
        }
        try (Connection c = transaction()) {
            assertThat(inboxOn(c).firstHandling("totals", "e-1", now)).as("a copy").isFalse();
            assertThat(inboxOn(c).firstHandling("audit", "e-1", now)).as("another group").isTrue();
            assertThat(inboxOn(c).firstHandling("totals", "e-2", now)).isTrue();
            c.commit();
        }
        try (Connection c = transaction()) {
            assertThat(inboxOn(c).count("totals")).isEqualTo(2);
            c.rollback();
        }
    }

    @Test
    void aRolledBackHandlingLeavesNoRecord() throws Exception {
        createSchema();
        try (Connection c = transaction()) {
            assertThat(inboxOn(c).firstHandling("totals", "e-1", Instant.now())).isTrue();
            c.rollback(); // the handler failed: its effects and its record go together
        }
        try (Connection c = transaction()) {
            assertThat(inboxOn(c).firstHandling("totals", "e-1", Instant.now())).isTrue();
            c.commit();
        }
    }

    @Test
    void retentionRemovesTheOldRecordsInBoundedBatches() throws Exception {
        createSchema();
        Instant now = Instant.now();
        try (Connection c = transaction()) {
            JdbcInbox inbox = inboxOn(c);
            for (int i = 0; i < 5; i++) {
                inbox.firstHandling("totals", "old-" + i, now.minus(10, ChronoUnit.DAYS));
            }
            inbox.firstHandling("totals", "new-1", now);
            inbox.firstHandling("totals", "new-2", now);
            c.commit();
        }
        try (Connection c = transaction()) {
            JdbcInbox inbox = inboxOn(c);
            Instant cutoff = now.minus(7, ChronoUnit.DAYS);
            assertThat(inbox.purge(cutoff, 3)).isEqualTo(3);
            assertThat(inbox.purge(cutoff, 3)).isEqualTo(2);
            assertThat(inbox.purge(cutoff, 3)).isZero();
            assertThat(inbox.count("totals")).isEqualTo(2);
            c.commit();
        }
    }
}
