package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.OutboxStatus;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class RelayRowTest {

    private static final int SEGMENTS = 16;

    /* The relay's reads filter on the stored segment; a row must be handled under that number, never a recomputed one. */
    @Test
    void aStoredRowKeepsTheSegmentItWasStoredIn() {
        String aggregateId = IntStream.range(0, 100).mapToObj(i -> "agg-" + i)
                                      .filter(id -> OutboxSegments.of(id, SEGMENTS) != 0)
                                      .findFirst().orElseThrow();
        OutboxEntry storedInZero = new OutboxEntry("e", 1, Instant.EPOCH, "Evt", "Order", aggregateId, 0, "{}", "{}",
                                                   "0", null, OutboxStatus.PENDING, 0, null, null,
                                                   OutboxEntry.NO_SEQUENCE, null, 0);

        assertThat(new RelayRow(storedInZero, SEGMENTS).segment).isZero();
    }

    @Test
    void anEntryNeverStoredGetsTheSegmentOfItsAggregate() {
        OutboxEntry entry = OutboxEntry.pending("e", Instant.EPOCH, "Evt", "Order", "order-7", 0, "{}", "{}", "0", null);

        assertThat(new RelayRow(entry, SEGMENTS).segment).isEqualTo(OutboxSegments.of("order-7", SEGMENTS));
    }
}
