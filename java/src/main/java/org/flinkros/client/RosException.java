package org.flinkros.client;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Objects;

/** A failed call to an RpcOperator service, or a failed operation of the runtime. */
@PublicEvolving
public class RosException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final StatusCode code;
    private final String description;

    /** Creates an exception with the given code and description. */
    public RosException(StatusCode code, String description) {
        this(code, description, null);
    }

    /** Creates an exception with the given code, description and cause. */
    public RosException(StatusCode code, String description, Throwable cause) {
        super(Objects.requireNonNull(code, "code") + ": " + description, cause);
        this.code = code;
        this.description = description;
    }

    /** What kind of failure this is. */
    public StatusCode getCode() {
        return code;
    }

    /** The message without the code in front. */
    public String getDescription() {
        return description;
    }

    /** Whether the call produced no response and may be sent again to a different instance. */
    public boolean isRetryable() {
        return code.isRetryable();
    }
}
