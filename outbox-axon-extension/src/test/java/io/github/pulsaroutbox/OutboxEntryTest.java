package io.github.pulsaroutbox;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** An outbox row as the relay sees it: a new pending entry, and the key its order is kept under. */
class OutboxEntryTest {

    private static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");

    @Nested
    class Pending {

        @Test
        void isNotStoredYetAndHasNoBrokerSequenceOrSegment() {
            OutboxEntry entry = pending(0);

            assertThat(entry.status()).isEqualTo(OutboxStatus.PENDING);
            assertThat(entry.position()).isEqualTo(-1);
            assertThat(entry.attempts()).isZero();
            assertThat(entry.brokerSequence()).isEqualTo(OutboxEntry.NO_SEQUENCE);
            assertThat(entry.segment()).isEqualTo(OutboxEntry.NO_SEGMENT);
        }

        @Test
        void refusesANegativeAggregateSequence() { // the relay takes an aggregate's sequence 0 as its first row
            assertThatIllegalArgumentException().isThrownBy(() -> pending(-1))
                                                .withMessageContaining("numbered from 0")
                                                .withMessageContaining("'A-1'");
        }
    }

    @Test
    void keepsOrderPerAggregateTypeAndIdentifier() {
        OutboxEntry order = pending(0);
        OutboxEntry invoice = OutboxEntry.pending("e2", NOW, "Evt", "Invoice", "A-1", 0, "{}", "{}", "0", null);

        assertThat(order.aggregateKey()).isNotEqualTo(invoice.aggregateKey());
        assertThat(order.aggregateKey()).isEqualTo(pending(3).aggregateKey());
    }

    private static OutboxEntry pending(long sequence) {
        return OutboxEntry.pending("e1", NOW, "Evt", "Order", "A-1", sequence, "{}", "{}", "0", null);
    }
}
