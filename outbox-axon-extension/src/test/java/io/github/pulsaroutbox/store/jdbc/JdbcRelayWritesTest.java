package io.github.pulsaroutbox.store.jdbc;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The relay's bounded waits per server, on a recording connection: which statement runs with which parameters (MySQL
 * has no server here; MariaDB and PostgreSQL run them for real in the store's contract tests).
 */
class JdbcRelayWritesTest {

    private final List<String> executed = new ArrayList<>();

    /** A connection to a server whose version string is {@code version}, in a transaction unless auto-commit. */
    private Connection connection(String version, boolean autoCommit) {
        DatabaseMetaData metaData = proxy(DatabaseMetaData.class, (method, args) -> switch (method) {
            case "getDatabaseProductVersion" -> version;
            case "getDatabaseProductName" -> "MySQL";
            default -> null;
        });
        return proxy(Connection.class, (method, args) -> switch (method) {
            case "getAutoCommit" -> autoCommit;
            case "getMetaData" -> metaData;
            case "prepareStatement" -> statement((String) args[0]);
            default -> null;
        });
    }

    private PreparedStatement statement(String sql) {
        List<Object> parameters = new ArrayList<>();
        return proxy(PreparedStatement.class, (method, args) -> {
            switch (method) {
                case "setLong", "setString" -> parameters.add(args[1]);
                case "execute", "executeQuery" -> executed.add(sql.replaceAll("\\s+", " ") + " " + parameters);
                default -> {
                }
            }
            return method.equals("execute") ? Boolean.FALSE : null;
        });
    }

    private JdbcRelayWrites writes(Connection connection) {
        return new JdbcRelayWrites(new JdbcAccess(() -> connection, "outbox", OutboxDatabase.MARIADB));
    }

    @Nested
    class OnMariaDb {

        private final JdbcRelayWrites writes = writes(connection("10.11.19-MariaDB-0+deb12u1", false));

        @Test
        void boundsTheLockWaitAndTheIdleTimeInWholeSecondsRoundedUpKeepingTheSessionsOwn() {
            writes.limitWaits(Duration.ofMillis(750), Duration.ofMillis(1500));

            assertThat(executed).singleElement().asString()
                                .startsWith("SET @pulsar_outbox_lock_wait = @@SESSION.innodb_lock_wait_timeout, "
                                                    + "@pulsar_outbox_idle = @@SESSION.idle_transaction_timeout")
                                .contains("SESSION idle_write_transaction_timeout = ?")
                                .endsWith("[1, 2, 2, 2]");
        }

        @Test
        void givesTheSessionItsOwnValuesBack() {
            writes.restoreWaits();

            assertThat(executed).containsExactly("SET SESSION innodb_lock_wait_timeout = @pulsar_outbox_lock_wait, "
                                                         + "SESSION idle_transaction_timeout = @pulsar_outbox_idle, "
                                                         + "SESSION idle_write_transaction_timeout = "
                                                         + "@pulsar_outbox_idle_write, "
                                                         + "SESSION idle_readonly_transaction_timeout = "
                                                         + "@pulsar_outbox_idle_read []");
        }
    }

    @Nested
    class OnMySql {

        private final JdbcRelayWrites writes = writes(connection("8.0.36", false));

        @Test
        void boundsTheLockWaitOnlyForMySqlHasNoIdleTransactionTimeout() {
            writes.limitWaits(Duration.ofSeconds(5), Duration.ofSeconds(10));
            writes.restoreWaits();

            assertThat(executed).containsExactly(
                    "SET @pulsar_outbox_lock_wait = @@SESSION.innodb_lock_wait_timeout, "
                            + "SESSION innodb_lock_wait_timeout = ? [5]",
                    "SET SESSION innodb_lock_wait_timeout = @pulsar_outbox_lock_wait []");
        }
    }

    @Nested
    class OutsideATransaction {

        @Test
        void changesNothingForASessionSettingWouldOutliveTheCall() {
            JdbcRelayWrites writes = writes(connection("10.11.19-MariaDB", true));

            writes.limitWaits(Duration.ofSeconds(5), Duration.ofSeconds(10));
            writes.restoreWaits();

            assertThat(executed).isEmpty();
        }
    }

    @Test
    void roundsDurationsUpToWholeSecondsOfAtLeastOne() {
        assertThat(JdbcRelayWrites.wholeSeconds(Duration.ZERO)).isOne();
        assertThat(JdbcRelayWrites.wholeSeconds(Duration.ofMillis(1))).isOne();
        assertThat(JdbcRelayWrites.wholeSeconds(Duration.ofMillis(1000))).isOne();
        assertThat(JdbcRelayWrites.wholeSeconds(Duration.ofMillis(1001))).isEqualTo(2);
    }

    @FunctionalInterface
    private interface Answer {
        Object answer(String method, Object[] args) throws Exception;
    }

    private static <T> T proxy(Class<T> type, Answer answer) {
        return type.cast(Proxy.newProxyInstance(JdbcRelayWritesTest.class.getClassLoader(), new Class<?>[]{type},
                                                (proxy, method, args) -> answer.answer(method.getName(), args)));
    }
}
