package io.github.pulsaroutbox.store.jdbc;

import org.axonframework.common.AxonConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OutboxSqlTest {

    @ParameterizedTest
    @ValueSource(strings = {"axon_outbox", "OUTBOX", "_o1", "shop.outbox"})
    void acceptsTableNames(String table) {
        OutboxSql sql = OutboxSql.load(OutboxDatabase.H2, table);
        assertThat(sql.get("insert")).contains("INSERT INTO " + table + " ");
        assertThat(sql.schema()).isNotEmpty().allSatisfy(ddl -> assertThat(ddl).doesNotContain("${"));
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
        assertThat(String.join("\n", sql.schema())).contains("CREATE TABLE IF NOT EXISTS shop.outbox (")
                                                   .contains("CONSTRAINT outbox_pk")
                                                   .contains("outbox_parked_ix ON shop.outbox");
    }
}
