package io.github.pulsaroutbox.store.jdbc;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * How a database's timestamp columns are written and read, so that every instant comes back as it was written, to the
 * microsecond, whatever the JVM's time zone and the driver.
 */
enum TimeColumns {

    /** Columns with a time zone (PostgreSQL {@code TIMESTAMPTZ}, H2 {@code TIMESTAMP WITH TIME ZONE}): UTC offsets. */
    OFFSET {
        @Override
        Object bind(Instant instant) {
            return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
        }

        @Override
        Instant read(ResultSet rs, String column) throws SQLException {
            OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
            return value == null ? null : value.toInstant();
        }

        @Override
        Instant read(ResultSet rs, int column) throws SQLException {
            OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
            return value == null ? null : value.toInstant();
        }
    },

    /**
     * Columns without a time zone that hold UTC (MariaDB {@code DATETIME(6)}): written as text, which the server parses
     * with its microseconds (MySQL's Connector/J drops the fraction of a date-time value it sends to a MariaDB 10
     * server, which announces itself as MySQL 5.5), read as local date-times taken as UTC (no driver converts them
     * through the JVM's zone then).
     */
    UTC_TEXT {
        private final DateTimeFormatter text = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS");

        @Override
        Object bind(Instant instant) {
            return instant == null ? null : text.format(LocalDateTime.ofInstant(instant, ZoneOffset.UTC));
        }

        @Override
        Instant read(ResultSet rs, String column) throws SQLException {
            LocalDateTime value = rs.getObject(column, LocalDateTime.class);
            return value == null ? null : value.toInstant(ZoneOffset.UTC);
        }

        @Override
        Instant read(ResultSet rs, int column) throws SQLException {
            LocalDateTime value = rs.getObject(column, LocalDateTime.class);
            return value == null ? null : value.toInstant(ZoneOffset.UTC);
        }
    };

    /** The value to bind for {@code instant} ({@code null} for none). */
    abstract Object bind(Instant instant);

    /** The instant in {@code column}, or {@code null}. */
    abstract Instant read(ResultSet rs, String column) throws SQLException;

    /** The instant in the {@code column}th column, or {@code null}. */
    abstract Instant read(ResultSet rs, int column) throws SQLException;
}
