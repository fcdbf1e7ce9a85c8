/*
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
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
    public StatusCode code() {
        return code;
    }

    /** The message without the code in front. */
    public String description() {
        return description;
    }

    /** Whether the call produced no response and may be sent again to a different instance. */
    public boolean isRetryable() {
        return code.isRetryable();
    }
}
