package io.github.pulsaroutbox.store.jdbc;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The SQL of one database, loaded from resources, with the (validated) table name substituted. No SQL is built from
 * user input: the table name is checked by {@link TableNames} and every value is a bind parameter.
 */
final class OutboxSql {

    /** A table name: an identifier, optionally schema-qualified; at most 50 characters so derived names fit (63). */
    private static final String BASE = "io/github/pulsaroutbox/store/jdbc/";
    /** How many bind parameters {@code ${ids}} stands for: set-based statements take ids in chunks of this size. */
    static final int SET_SIZE = 100;
    private static final String SET_PARAMETERS = String.join(", ", java.util.Collections.nCopies(SET_SIZE, "?"));
    /** The cast types of {@code ${cases}} and {@code ${partitionCases}} unless statements.properties names others. */
    private static final String BIGINT = "BIGINT";
    private static final String INTEGER = "INTEGER";
    /** How many bind parameters {@code ${segments}} stands for: every segment a relay can own. */
    static final int SEGMENT_SET_SIZE = io.github.pulsaroutbox.OutboxSegments.MAX_COUNT;
    private static final String SEGMENT_PARAMETERS = String.join(", ",
                                                                 java.util.Collections.nCopies(SEGMENT_SET_SIZE, "?"));

    /** The migration files under {@code <database>/migration/}, version 1 first (Flyway's naming). */
    static final List<String> MIGRATIONS = List.of("V1__pulsar_outbox_baseline.sql",
                                                   "V2__pulsar_outbox_schema_version.sql",
                                                   "V3__pulsar_outbox_relay_updates.sql",
                                                   "V4__pulsar_outbox_pending_aggregate_key.sql",
                                                   "V5__pulsar_outbox_broker_partition.sql",
                                                   "V6__pulsar_outbox_parked_unknown_outcome.sql");
    /** The schema version this code reads and writes: the last migration's. */
    static final int SCHEMA_VERSION = MIGRATIONS.size();

    private final Properties statements;
    private final List<List<String>> migrations;
    private final TimeColumns times;

    private OutboxSql(Properties statements, List<List<String>> migrations, TimeColumns times) {
        this.statements = statements;
        this.migrations = migrations;
        this.times = times;
    }

    static OutboxSql load(OutboxDatabase database, String table) {
        validateTableName(table);
        String simpleName = table.substring(table.indexOf('.') + 1);
        Properties raw = new Properties();
        try (InputStream in = resource(database, "statements.properties")) {
            raw.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // ${cases}: SET_SIZE pairs of bind parameters, WHEN ? THEN ? (id, value); ${partitionCases}: (id, partition)
        String cases = caseParameters(raw.getProperty("cast.bigint", BIGINT));
        String partitionCases = caseParameters(raw.getProperty("cast.integer", INTEGER));
        Properties statements = new Properties();
        raw.forEach((k, v) -> statements.setProperty((String) k, substitute((String) v, table, simpleName)
                .replace("${partitionCases}", partitionCases).replace("${cases}", cases)));
        List<List<String>> migrations = MIGRATIONS.stream()
                                                  .map(file -> statementsOf(database, "migration/" + file, table,
                                                                            simpleName))
                                                  .toList();
        return new OutboxSql(statements, migrations, database.timeColumns());
    }

    private static List<String> statementsOf(OutboxDatabase database, String file, String table, String simpleName) {
        String text;
        try (InputStream in = resource(database, file)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Arrays.stream(text.replaceAll("(?m)^--.*$", "").split(";"))
                     .map(String::trim)
                     .filter(s -> !s.isEmpty())
                     .map(s -> substitute(s, table, simpleName))
                     .toList();
    }

    /** @throws IllegalArgumentException naming the problem when {@code table} is not a valid table name */
    static void validateTableName(String table) {
        TableNames.validate("outbox", table);
    }

    String get(String name) {
        String sql = statements.getProperty(name);
        if (sql == null) {
            throw new IllegalStateException("No outbox statement '" + name + "'");
        }
        return sql;
    }

    /**
     * The bind parameters of a statement: its {@code ?} marks (the statements have no literal that contains one), for
     * a statement that takes one value in several places.
     */
    static int parameterCount(String sql) {
        return (int) sql.chars().filter(c -> c == '?').count();
    }

    /** The statement {@code name}, if this database has one (some are optional, e.g. {@code limitWaits}). */
    java.util.Optional<String> find(String name) {
        return java.util.Optional.ofNullable(statements.getProperty(name));
    }

    /** How this database's timestamp columns are written and read. */
    TimeColumns times() {
        return times;
    }

    /** The statements of migration {@code version} (1 to {@link #SCHEMA_VERSION}), placeholders substituted. */
    List<String> migration(int version) {
        return migrations.get(version - 1);
    }

    private static String caseParameters(String castType) {
        return String.join(" ", java.util.Collections.nCopies(SET_SIZE, "WHEN ? THEN CAST(? AS " + castType + ")"));
    }

    private static String substitute(String sql, String table, String simpleName) {
        // ${name}: unqualified, for constraint and index names; ${archive}: the retention archive table
        // ${ids}: SET_SIZE bind parameters; ${segments}: SEGMENT_SET_SIZE bind parameters; ${nodes}: the relay nodes
        // (${cases} and ${partitionCases} are the database's: see load)
        return sql.replace("${archive}", table + "_archive").replace("${nodes}", table + "_node")
                  .replace("${name}", simpleName).replace("${table}", table)
                  .replace("${ids}", SET_PARAMETERS).replace("${segments}", SEGMENT_PARAMETERS);
    }

    private static InputStream resource(OutboxDatabase database, String name) {
        String path = BASE + database.folder() + "/" + name;
        InputStream in = OutboxSql.class.getClassLoader().getResourceAsStream(path);
        if (in == null) {
            throw new IllegalStateException("Missing outbox SQL resource " + path);
        }
        return in;
    }
}
