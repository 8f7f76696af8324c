package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.receiving.MessagePosition;
import org.apache.pulsar.common.policies.data.ManagedLedgerInternalStats;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReceivingLagTest {

    /** Ledgers 1 (10 entries) and 2 (5), and the current ledger 3 with 4 entries so far. */
    private static ManagedLedgerInternalStats stats() {
        ManagedLedgerInternalStats stats = new ManagedLedgerInternalStats();
        stats.ledgers = List.of(ledger(1, 10), ledger(2, 5), ledger(3, 0));
        stats.currentLedgerEntries = 4;
        stats.numberOfEntries = 19;
        return stats;
    }

    private static ManagedLedgerInternalStats.LedgerInfo ledger(long id, long entries) {
        ManagedLedgerInternalStats.LedgerInfo info = new ManagedLedgerInternalStats.LedgerInfo();
        info.ledgerId = id;
        info.entries = entries;
        return info;
    }

    private static long after(long ledger, long entry) {
        return ReceivingLag.entriesAfter(stats(), Optional.of(new MessagePosition(ledger, entry)));
    }

    @Test
    void countsTheEntriesAfterAPositionAcrossLedgersTheCurrentOneByItsCount() {
        assertThat(after(2, 3)).isEqualTo(1 + 4);
        assertThat(after(1, 0)).isEqualTo(9 + 5 + 4);
        assertThat(after(3, 1)).isEqualTo(2);
        assertThat(after(3, 3)).as("caught up").isZero();
    }

    @Test
    void countsEveryRetainedEntryWithoutAPositionOrBeforeTheRetainedLedgers() {
        assertThat(ReceivingLag.entriesAfter(stats(), Optional.empty())).isEqualTo(19);
        assertThat(after(0, 500)).as("a ledger retention removed").isEqualTo(19);
    }

    @Test
    void theIntervalMustBePositive() {
        assertThatThrownBy(() -> ReceivingLag.validate(Duration.ZERO))
                .isInstanceOf(InvalidConfigurationPropertyValueException.class).hasMessageContaining("lag-interval");
        ReceivingLag.validate(Duration.ofSeconds(1));
    }
}
