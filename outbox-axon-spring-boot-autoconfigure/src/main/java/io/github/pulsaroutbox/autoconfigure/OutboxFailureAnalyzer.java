package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.OutboxStartupException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Shows an {@link OutboxStartupException} anywhere in a failed start's causes as Spring Boot's "APPLICATION FAILED TO
 * START" report: what is wrong, and the action that fixes it.
 */
class OutboxFailureAnalyzer extends AbstractFailureAnalyzer<OutboxStartupException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, OutboxStartupException cause) {
        return new FailureAnalysis(cause.getMessage(), cause.action(), cause);
    }
}
