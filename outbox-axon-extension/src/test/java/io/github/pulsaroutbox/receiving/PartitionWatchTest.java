package io.github.pulsaroutbox.receiving;

import org.apache.pulsar.client.api.Reader;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

class PartitionWatchTest {

    private final AtomicLong now = new AtomicLong();
    private final List<CompletableFuture<List<String>>> lookups = new ArrayList<>();
    private final List<String> opened = new ArrayList<>();
    @SuppressWarnings("unchecked")
    private final PartitionWatch watch = new PartitionWatch(() -> {
        CompletableFuture<List<String>> lookup = new CompletableFuture<>();
        lookups.add(lookup);
        return lookup;
    }, partition -> {
        opened.add(partition);
        return mock(Reader.class);
    }, 1000, now::get);

    @Test
    void looksUpOnlyWhenDueWithoutWaitingForTheAnswer() {
        assertThat(watch.added(Set.of("p0"))).isEmpty();
        assertThat(lookups).isEmpty();
        assertThat(watch.nanosUntilDue()).isEqualTo(1000);

        now.set(1000);
        assertThat(watch.added(Set.of("p0"))).isEmpty();
        assertThat(lookups).hasSize(1);
        assertThat(watch.added(Set.of("p0"))).as("the lookup has not answered").isEmpty();
        assertThat(lookups).hasSize(1);
    }

    @Test
    void opensReadersOnThePartitionsItDidNotKnowFromTheirEarliestMessage() {
        now.set(1000);
        watch.added(Set.of("p0", "p1"));
        lookups.get(0).complete(List.of("p0", "p1", "p2", "p3"));

        assertThat(watch.added(Set.of("p0", "p1"))).containsOnlyKeys("p2", "p3");
        assertThat(opened).containsExactly("p2", "p3");
        assertThat(watch.nanosUntilDue()).as("the next lookup an interval later").isEqualTo(1000);
    }

    @Test
    void aFailedLookupIsTriedAgainAfterTheInterval() {
        now.set(1000);
        watch.added(Set.of("p0"));
        lookups.get(0).completeExceptionally(new IllegalStateException("broker unreachable"));

        assertThat(watch.added(Set.of("p0"))).isEmpty();
        now.set(1999);
        watch.added(Set.of("p0"));
        assertThat(lookups).hasSize(1);
        now.set(2000);
        watch.added(Set.of("p0"));
        assertThat(lookups).hasSize(2);
    }
}
