package io.github.pulsaroutbox.store.jdbc;

import org.axonframework.common.AxonConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OutboxSqlTest {

    @ParameterizedTest
    @ValueSource(strings = {"axon_outbox", "OUTBOX", "_o1", "shop.outbox"})
    void acceptsTableNames(String table) {
        OutboxSql sql = OutboxSql.load(OutboxDatabase.H2, table);
        assertThat(sql.get("insert")).contains("INSERT INTO " + table + " ");
        assertThat(allMigrations(sql)).isNotEmpty().allSatisfy(ddl -> assertThat(ddl).doesNotContain("${"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1outbox", "outbox; DROP TABLE x", "a.b.c", "out-box", "\"outbox\""})
    void rejectsUnsafeTableNames(String table) {
        assertThatThrownBy(() -> OutboxSql.load(OutboxDatabase.H2, table))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Invalid outbox table name");
        assertThatThrownBy(() -> JdbcOutboxStore.builder().connectionProvider(() -> null).table(table).build())
                .isInstanceOf(AxonConfigurationException.class);
    }

    @Test
    void constraintNamesUseTheUnqualifiedName() {
        OutboxSql sql = OutboxSql.load(OutboxDatabase.POSTGRESQL, "shop.outbox");
        assertThat(String.join("\n", allMigrations(sql))).contains("CREATE TABLE IF NOT EXISTS shop.outbox (")
                                                   .contains("CONSTRAINT outbox_pk")
                                                   .contains("outbox_parked_ix ON shop.outbox")
                                                   .contains("CREATE TABLE IF NOT EXISTS shop.outbox_version (");
    }

    @ParameterizedTest
    @EnumSource(OutboxDatabase.class)
    void theLastMigrationOfEveryDatabaseRecordsTheVersionTheCodeChecks(OutboxDatabase database) {
        OutboxSql sql = OutboxSql.load(database, "outbox");
        assertThat(OutboxSql.MIGRATIONS).hasSize(OutboxSql.SCHEMA_VERSION);
        assertThat(sql.migration(OutboxSql.SCHEMA_VERSION))
                .contains("INSERT INTO outbox_version (version) VALUES (" + OutboxSql.SCHEMA_VERSION + ")");
        // the archive is declared column by column, and retention copies by name
        assertThat(String.join("\n", allMigrations(sql))).doesNotContain("SELECT *");
        assertThat(sql.get("retentionArchive")).doesNotContain("SELECT *").contains("topic) SELECT id, position");
    }

    /*
     * PostgreSQL reads the parked rows that carry a sequence id through a partial index of the failure kinds parked
     * with their id (FailureKind#mayHaveBeenStored): statement and index must name exactly those kinds, or a parked
     * row of unknown outcome would never be resolved (a kind missing) or the index would hold refused rows (one too
     * many).
     */
    @Test
    void postgreSqlReadsParkedRowsWithIdsByExactlyTheKindsThatKeepTheirId() {
        String kinds = java.util.Arrays.stream(io.github.pulsaroutbox.FailureKind.values())
                                       .filter(io.github.pulsaroutbox.FailureKind::mayHaveBeenStored)
                                       .map(kind -> "'" + kind.name() + "'")
                                       .collect(java.util.stream.Collectors.joining(", ", "failure_kind IN (", ")"));
        OutboxSql sql = OutboxSql.load(OutboxDatabase.POSTGRESQL, "outbox");

        assertThat(sql.get("fetchSequenced")).contains("f.status = 'FAILED' AND f." + kinds);
        // the latest statement that creates the index (a later change of the kinds needs a migration of its own)
        String index = allMigrations(sql).stream().filter(ddl -> ddl.contains("outbox_parked_unknown_ix ON"))
                                         .reduce((first, second) -> second).orElseThrow().strip();
        assertThat(index).contains("outbox_parked_unknown_ix ON outbox (segment)")
                         .endsWith("WHERE status = 'FAILED' AND " + kinds)
                         .doesNotContain("broker_sequence"); // see the plan test: the sequence id update stays HOT
    }

    private static List<String> allMigrations(OutboxSql sql) {
        return IntStream.rangeClosed(1, OutboxSql.SCHEMA_VERSION).mapToObj(sql::migration)
                        .flatMap(List::stream).toList();
    }
}
