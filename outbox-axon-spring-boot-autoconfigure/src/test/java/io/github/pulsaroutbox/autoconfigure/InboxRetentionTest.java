package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.receiving.inbox.Inbox;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InboxRetentionTest {

    @Test
    void removesOldRecordsInBatchesUntilNoneIsLeft() {
        Instant now = Instant.parse("2026-12-06T12:00:00Z");
        List<Instant> cutoffs = new ArrayList<>();
        int[] left = {2500};
        Inbox inbox = new Inbox() {
            @Override
            public boolean firstHandling(String processingGroup, String messageId, Instant at) {
                return true;
            }

            @Override
            public int purge(Instant before, int batchSize) {
                cutoffs.add(before);
                int removed = Math.min(left[0], batchSize);
                left[0] -= removed;
                return removed;
            }
        };
        InboxRetention retention = new InboxRetention(inbox, Duration.ofDays(7), Duration.ofMinutes(1),
                                                      Clock.fixed(now, ZoneOffset.UTC));

        assertThat(retention.purge()).isEqualTo(2500);
        assertThat(cutoffs).hasSize(3).allMatch(cutoff -> cutoff.equals(now.minus(Duration.ofDays(7))));
    }

    @Test
    void refusesANonPositiveRetentionOrInterval() {
        assertThatThrownBy(() -> new InboxRetention(null, Duration.ZERO, Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new InboxRetention(null, Duration.ofDays(1), Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
