package io.github.pulsaroutbox;

import org.apache.pulsar.client.impl.Murmur3Hash32;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OutboxSegmentsTest {

    @Test
    void hashIsTheOnePulsarRoutesKeysWith() {
        for (String key : new String[]{"", "a", "ab", "abc", "abcd", "abcde", "order-1", "ünïcödé-€", "x".repeat(97)}) {
            assertThat(OutboxSegments.hash(key)).as(key).isEqualTo(Murmur3Hash32.getInstance().makeHash(key));
        }
        for (int i = 0; i < 1000; i++) {
            String key = UUID.randomUUID().toString().substring(0, i % 36 + 1);
            assertThat(OutboxSegments.hash(key)).as(key).isEqualTo(Murmur3Hash32.getInstance().makeHash(key));
        }
    }

    @Test
    void segmentIsTheHashModuloTheCountLikeAPartition() {
        String key = "order-42";
        for (int count = 1; count <= OutboxSegments.MAX_COUNT; count++) {
            int segment = OutboxSegments.of(key, count);
            assertThat(segment).isBetween(0, count - 1)
                               .isEqualTo(Murmur3Hash32.getInstance().makeHash(key) % count);
        }
    }

    @Test
    void refusesSegmentCountsOutOfRange() {
        assertThatThrownBy(() -> OutboxSegments.of("a", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OutboxSegments.of("a", OutboxSegments.MAX_COUNT + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
