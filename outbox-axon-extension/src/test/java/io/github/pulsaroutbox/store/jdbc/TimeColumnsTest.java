package io.github.pulsaroutbox.store.jdbc;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.sql.ResultSet;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

class TimeColumnsTest {

    private static final Instant AT = Instant.parse("2026-11-26T10:15:30.123456Z");

    @Nested
    class Offsets {

        @Test
        void bindUtcOffsetsAndReadThemBack() throws Exception {
            assertThat(TimeColumns.OFFSET.bind(AT)).isEqualTo(OffsetDateTime.of(2026, 11, 26, 10, 15, 30, 123_456_000,
                                                                                ZoneOffset.UTC));
            ResultSet rs = mock(ResultSet.class);
            when(rs.getObject("t", OffsetDateTime.class)).thenReturn(AT.atOffset(ZoneOffset.ofHours(2)));
            assertThat(TimeColumns.OFFSET.read(rs, "t")).isEqualTo(AT);
            assertThat(TimeColumns.OFFSET.read(rs, "none")).isNull();
        }
    }

    @Nested
    class UtcText {

        @Test
        void bindsTextWithMicrosecondsInUtcWhateverTheZone() {
            assertThat(TimeColumns.UTC_TEXT.bind(AT)).isEqualTo("2026-11-26 10:15:30.123456");
            assertThat(TimeColumns.UTC_TEXT.bind(Instant.parse("2026-11-26T10:15:30Z")))
                    .isEqualTo("2026-11-26 10:15:30.000000");
            assertThat(TimeColumns.UTC_TEXT.bind(null)).isNull();
        }

        @Test
        void readsLocalDateTimesAsUtc() throws Exception {
            ResultSet rs = mock(ResultSet.class);
            when(rs.getObject("t", LocalDateTime.class)).thenReturn(LocalDateTime.of(2026, 11, 26, 10, 15, 30,
                                                                                     123_456_000));
            when(rs.getObject(1, LocalDateTime.class)).thenReturn(LocalDateTime.of(2026, 11, 26, 10, 15, 30,
                                                                                   123_456_000));
            assertThat(TimeColumns.UTC_TEXT.read(rs, "t")).isEqualTo(AT);
            assertThat(TimeColumns.UTC_TEXT.read(rs, 1)).isEqualTo(AT);
            assertThat(TimeColumns.UTC_TEXT.read(rs, "none")).isNull();
        }
    }
}
