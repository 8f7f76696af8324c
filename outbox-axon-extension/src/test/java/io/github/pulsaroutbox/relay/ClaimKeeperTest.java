package io.github.pulsaroutbox.relay;

import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Keeping the claims of a relay (two segments, 1 s claim timeout, claimed in Axon's in-memory token store) while its
 * thread makes progress, on a fake clock; the extensions are counted in the token store.
 */
class ClaimKeeperTest {

    private static final long CLAIM_TIMEOUT = Duration.ofSeconds(1).toNanos();

    private final AtomicLong now = new AtomicLong(0);
    private final CountingTokenStore tokens = new CountingTokenStore();
    private final String relayName = "relay-" + UUID.randomUUID();
    private SegmentClaims claims;
    private ClaimKeeper keeper;

    @BeforeEach
    void claimBothSegments() {
        claims = SegmentClaims.builder().tokenStore(tokens).segmentCount(2).processorName("outbox")
                              .claimTimeout(Duration.ofSeconds(1)).build();
        claims.initialize();
        assertThat(claims.round().gained()).containsExactly(0, 1);
        tokens.extended.set(0);
        keeper = new ClaimKeeper(claims, relayName, now::get);
    }

    @AfterEach
    void stopKeeper() {
        tokens.release.countDown();
        keeper.stop();
    }

    @Nested
    class KeepIfProgressing {

        @Test
        void extendsEveryClaimWhileTheRelayProgressedWithinTheClaimTimeout() {
            now.set(CLAIM_TIMEOUT - 1);

            assertThat(keeper.keepIfProgressing()).isTrue();

            assertThat(tokens.extended).hasValue(2);
        }

        @Test
        void extendsNothingOnceTheRelayMadeNoProgressForTheClaimTimeout() {
            now.set(CLAIM_TIMEOUT);
            assertThat(keeper.keepIfProgressing()).isFalse();

            now.set(10 * CLAIM_TIMEOUT);
            assertThat(keeper.keepIfProgressing()).isFalse();

            assertThat(tokens.extended).hasValue(0);
        }

        @Test
        void countsFromTheRelaysLastProgress() {
            now.set(2 * CLAIM_TIMEOUT);
            assertThat(keeper.keepIfProgressing()).isFalse();

            keeper.progressed();
            now.addAndGet(CLAIM_TIMEOUT - 1);

            assertThat(keeper.keepIfProgressing()).isTrue();
            assertThat(tokens.extended).hasValue(2);
        }

        @Test
        void aFailedExtensionIsLoggedNotThrownAndTheNextRoundTriesAgain() {
            tokens.failure = new IllegalStateException("database unreachable");

            assertThat(keeper.keepIfProgressing()).isTrue();
            assertThat(tokens.extended).hasValue(0);

            tokens.failure = null;
            assertThat(keeper.keepIfProgressing()).isTrue();
            assertThat(tokens.extended).hasValue(2);
        }
    }

    @Nested
    class StartAndStop {

        @Test
        void startingCountsAsProgress() {
            now.set(5 * CLAIM_TIMEOUT);
            assertThat(keeper.keepIfProgressing()).isFalse();

            keeper.start();

            assertThat(keeper.keepIfProgressing()).isTrue();
        }

        @Test
        void extendsTheClaimsEveryRoundOnADaemonThreadOfItsOwn() {
            keeper.start();

            await().atMost(Duration.ofSeconds(10)).until(() -> tokens.extendedBy(relayName + "-claims") >= 4);
            assertThat(keeperThreads()).singleElement().satisfies(thread -> assertThat(thread.isDaemon()).isTrue());
        }

        @Test
        void startingTwiceRunsOneKeeperAndStoppingTwiceIsHarmless() {
            keeper.start();
            keeper.start();
            assertThat(keeperThreads()).hasSize(1);

            keeper.stop();
            keeper.stop();

            await().atMost(Duration.ofSeconds(10)).until(() -> keeperThreads().isEmpty());
        }

        @Test
        void stoppingAKeeperNeverStartedDoesNothing() {
            keeper.stop();

            assertThat(keeperThreads()).isEmpty();
        }

        @Test
        void aStoppedKeeperMayBeStartedAgain() {
            keeper.start();
            keeper.stop();
            await().atMost(Duration.ofSeconds(10)).until(() -> keeperThreads().isEmpty());
            int before = tokens.extendedBy(relayName + "-claims");

            keeper.start();

            await().atMost(Duration.ofSeconds(10)).until(() -> tokens.extendedBy(relayName + "-claims") > before);
        }

        @Test
        void stoppingWaitsForTheExtensionInProgress() throws Exception {
            tokens.blockOnce.set(true);
            keeper.start();
            assertThat(tokens.blocked.await(10, TimeUnit.SECONDS)).as("an extension is in progress").isTrue();

            keeper.stop(); // the extension ends one second later (or as soon as stop returned, if it did not wait)
            tokens.events.add("stop returned");
            tokens.release.countDown();

            assertThat(tokens.events).containsExactly("extension ended", "stop returned");
        }
    }

    private List<Thread> keeperThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                     .filter(thread -> thread.getName().equals(relayName + "-claims") && thread.isAlive())
                     .toList();
    }

    /** The in-memory token store, counting claim extensions (per thread name), failing or blocking one on demand. */
    private static final class CountingTokenStore extends InMemoryTokenStore {
        final AtomicInteger extended = new AtomicInteger();
        final java.util.Map<String, AtomicInteger> byThread = new java.util.concurrent.ConcurrentHashMap<>();
        final AtomicBoolean blockOnce = new AtomicBoolean();
        final CountDownLatch blocked = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile RuntimeException failure;

        int extendedBy(String threadName) {
            AtomicInteger count = byThread.get(threadName);
            return count == null ? 0 : count.get();
        }

        @Override
        public void extendClaim(String processorName, int segment) {
            RuntimeException failing = failure;
            if (failing != null) {
                throw failing;
            }
            boolean blocking = blockOnce.compareAndSet(true, false);
            if (blocking) {
                blocked.countDown();
                awaitReleaseUninterruptibly(); // stop() interrupts the keeper: it must still wait for this one
                events.add("extension ended");
            }
            super.extendClaim(processorName, segment);
            extended.incrementAndGet();
            byThread.computeIfAbsent(Thread.currentThread().getName(), name -> new AtomicInteger()).incrementAndGet();
        }

        /** Waits until released, or for a second at most (less than stop's 5 s), ignoring interrupts. */
        private void awaitReleaseUninterruptibly() {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            boolean interrupted = false;
            while (true) {
                try {
                    release.await(until - System.nanoTime(), TimeUnit.NANOSECONDS);
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
