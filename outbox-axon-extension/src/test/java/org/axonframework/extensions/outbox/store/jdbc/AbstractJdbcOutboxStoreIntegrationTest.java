package org.axonframework.extensions.outbox.store.jdbc;

import org.axonframework.common.jdbc.ConnectionWrapperFactory;
import org.axonframework.extensions.outbox.OutboxEntry;
import org.axonframework.extensions.outbox.OutboxStatus;
import org.axonframework.extensions.outbox.store.OutboxStore.FailedAttempt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import javax.sql.DataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The contract of {@link JdbcOutboxStore}, run against each real database it ships SQL for. */
abstract class AbstractJdbcOutboxStoreIntegrationTest {

    private final String table = "outbox_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private JdbcOutboxStore store;

    abstract DataSource dataSource();

    @BeforeEach
    void createTable() {
        store = JdbcOutboxStore.builder().connectionProvider(dataSource()::getConnection).table(table).build();
        store.createSchema();
        store.createSchema(); // idempotent
    }

    @AfterEach
    void dropTable() throws SQLException {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE " + table);
        }
    }

    @Test
    void storesAndReadsEveryField() {
        Instant timestamp = Instant.parse("2026-11-26T10:15:30.123456Z");
        OutboxEntry written = OutboxEntry.pending("evt-1", timestamp, "com.acme.OrderPlaced", "Order", "o-1", 7,
                                                  "{\"orderId\":\"o-1\",\"text\":\"" + "x".repeat(10_000) + "\"}",
                                                  "{\"traceId\":\"t\"}", "3");
        store.append(List.of(written));

        OutboxEntry read = store.find("evt-1").orElseThrow();
        assertThat(read.position()).isPositive();
        assertThat(read).usingRecursiveComparison().ignoringFields("position").isEqualTo(written);
        assertThat(store.find("nope")).isEmpty();
    }

    @Test
    void fetchesPendingInInsertionOrderUpToTheLimit() {
        store.append(IntStream.range(0, 5).mapToObj(i -> entry("e" + i, "A", i)).toList());
        assertThat(store.fetchPending(3)).extracting(OutboxEntry::id).containsExactly("e0", "e1", "e2");

        store.markSent(List.of("e0", "e2"), Instant.now());
        assertThat(store.fetchPending(10)).extracting(OutboxEntry::id).containsExactly("e1", "e3", "e4");
        assertThat(store.count(OutboxStatus.SENT)).isEqualTo(2);
        assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(3);
    }

    @Test
    void recordsFailedAttemptsAndTruncatesLongErrors() {
        store.append(List.of(entry("e0", "A", 0)));
        store.recordFailedAttempts(List.of(new FailedAttempt("e0", "first")));
        store.recordFailedAttempts(List.of(new FailedAttempt("e0", "y".repeat(5000))));

        OutboxEntry read = store.find("e0").orElseThrow();
        assertThat(read.attempts()).isEqualTo(2);
        assertThat(read.status()).isEqualTo(OutboxStatus.PENDING);
        assertThat(read.lastError()).hasSize(4000);
    }

    @Test
    void refusesASecondRowForTheSameAggregateSequence() {
        store.append(List.of(entry("e0", "A", 0)));
        assertThatThrownBy(() -> store.append(List.of(entry("e1", "A", 0))))
                .hasMessageContaining(table);
        assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(1);
    }

    /*
     * Positions are assigned at insert, rows become visible at commit: a row with a LOWER position can become
     * visible AFTER a higher one was already relayed. Selection by status (not "highest position seen") delivers it.
     */
    @Test
    void rowCommittedLateWithALowerPositionIsStillFetched() throws SQLException {
        try (Connection slowTransaction = dataSource().getConnection()) {
            slowTransaction.setAutoCommit(false);
            JdbcOutboxStore inSlowTransaction = JdbcOutboxStore.builder().table(table).connectionProvider(
                    () -> ConnectionWrapperFactory.wrap(slowTransaction, new ConnectionWrapperFactory.NoOpCloseHandler()))
                                                               .build();
            inSlowTransaction.append(List.of(entry("late", "L", 0)));   // lower position, not committed

            store.append(List.of(entry("early", "E", 0)));             // higher position, committed
            assertThat(store.fetchPending(10)).extracting(OutboxEntry::id).containsExactly("early");
            store.markSent(List.of("early"), Instant.now());

            slowTransaction.commit();
        }
        List<OutboxEntry> pending = store.fetchPending(10);
        assertThat(pending).extracting(OutboxEntry::id).containsExactly("late");
        assertThat(pending.get(0).position()).isLessThan(store.find("early").orElseThrow().position());
    }

    private static OutboxEntry entry(String id, String aggregateId, long sequence) {
        return OutboxEntry.pending(id, Instant.now(), "Evt", "Order", aggregateId, sequence, "{}", "{}", "0");
    }
}
